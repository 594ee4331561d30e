import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../../src/security/rbac.js';
import { ACME_KEY, chineseMobile, type Harness, makeHarness, OTHER_KEY } from '../api/harness.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * Every /v1 route × every role × (own tenant, foreign tenant) → the expected status, and no
 * foreign object ever shows in a response it should not be in. The routes come from the app's
 * own OpenAPI document, so a route added without a row here fails the first test. The whole
 * table runs twice: with each role's API key, and with a console session of a user of that role
 * (cookie + CSRF token) — a session must be exactly a key of its role and tenant.
 *
 * The expectations are written out independently of src/security/rbac.ts: this table is the
 * specification the permission table is checked against, not a copy of it.
 */
type Scope = 'own' | 'foreign';

interface Row {
  /** Roles that pass the permission check; every other role gets 403. */
  roles: readonly Role[];
  /** Builds the request; may create fresh objects (a cancel or delete needs its own victim). */
  request(scope: Scope): Promise<InjectOptions>;
  own: number;
  /** For tenant roles acting on another tenant's object. */
  foreign: number;
  /** For a platform admin acting on another tenant's object (default: `foreign`). */
  platformForeign?: number;
  /** A platform-wide listing: a platform admin sees every tenant's entries in it. */
  platformSeesAll?: true;
  /** Needs no credentials (login): the same status with or without them. */
  public?: true;
  /** A refusal is itself audited (a failed login). */
  auditsRefusals?: true;
}

type Mode = 'api key' | 'session';
const MODES: readonly Mode[] = ['api key', 'session'];
const PASSWORD = 'correct horse battery staple';

const ALL: readonly Role[] = ROLES;
const WRITERS: readonly Role[] = ['platform_admin', 'tenant_admin', 'operator'];
const LINE_READERS: readonly Role[] = ['platform_admin', 'tenant_admin', 'operator', 'auditor'];
const PLATFORM: readonly Role[] = ['platform_admin'];
const ADMINS: readonly Role[] = ['platform_admin', 'tenant_admin'];
const AUDIT_READERS: readonly Role[] = ['platform_admin', 'tenant_admin', 'auditor'];

const dir = makeTempDir();
let h: Harness;
const roleKeys = new Map<Role, string>();
/** Cookie and CSRF headers of each role's console session. */
const roleSessions = new Map<Role, Record<string, string>>();
let sequence = 0;
const next = () => (sequence += 1);

/** Ids of the foreign tenant's objects: none may appear in a response to a tenant role. */
const foreignIds: string[] = [];

async function created(options: InjectOptions & { key?: string }, what: string): Promise<string> {
  const response = await h.call(options);
  if (response.statusCode >= 300) throw new Error(`${what}: ${response.statusCode} ${response.body}`);
  return response.json().id as string;
}

function keyOf(scope: Scope): string {
  return scope === 'own' ? ACME_KEY : OTHER_KEY;
}

const fresh = {
  campaign: (scope: Scope) =>
    created(
      {
        method: 'POST',
        url: '/v1/campaigns',
        key: keyOf(scope),
        payload: { name: `c${next()}`, defaultRegion: 'CN' },
      },
      'campaign',
    ),
  async task(scope: Scope): Promise<string> {
    const campaignId = await fresh.campaign(scope);
    return created(
      {
        method: 'POST',
        url: `/v1/campaigns/${campaignId}/tasks`,
        key: keyOf(scope),
        payload: { number: chineseMobile(next()) },
      },
      'task',
    );
  },
  switch: () =>
    created(
      {
        method: 'POST',
        url: '/v1/switches',
        payload: {
          name: `fs${next()}`,
          eslHost: '10.0.0.5',
          eslPassword: 'S3cret-pass',
          maxSessions: 10,
          maxCaps: 5,
        },
      },
      'switch',
    ),
  async gateway(): Promise<string> {
    const switchId = await fresh.switch();
    return created(
      { method: 'POST', url: '/v1/gateways', payload: { name: `gw${next()}`, switchIds: [switchId] } },
      'gateway',
    );
  },
  async line(scope: Scope): Promise<string> {
    const gatewayId = await fresh.gateway();
    return created(
      {
        method: 'POST',
        url: '/v1/lines',
        payload: {
          name: `line${next()}`,
          gatewayId,
          caps: 1,
          maxConcurrent: 1,
          tenantId: scope === 'own' ? 'acme' : 'other',
        },
      },
      'line',
    );
  },
  user: (scope: Scope, role: Role = 'agent') =>
    created(
      {
        method: 'POST',
        url: '/v1/users',
        key: keyOf(scope),
        payload: { email: `u${next()}@${scope}.test`, password: PASSWORD, role },
      },
      'user',
    ),
  async campaignWithTask(scope: Scope): Promise<string> {
    const campaignId = await fresh.campaign(scope);
    await created(
      {
        method: 'POST',
        url: `/v1/campaigns/${campaignId}/tasks`,
        key: keyOf(scope),
        payload: { number: chineseMobile(next()), externalRef: 'ref' },
      },
      'task',
    );
    return campaignId;
  },
  apiKey: (scope: Scope) =>
    created(
      {
        method: 'POST',
        url: '/v1/api-keys',
        key: keyOf(scope),
        payload: { name: `k${next()}`, role: 'agent' },
      },
      'api key',
    ),
};

const switchBody = () => ({
  name: `fs${next()}`,
  eslHost: '10.0.0.6',
  eslPassword: 'An0ther-pass',
  maxSessions: 10,
  maxCaps: 5,
});

/** Logs a user in; returns the headers that act as that session. */
async function logIn(email: string): Promise<Record<string, string>> {
  const response = await h.call({
    method: 'POST',
    url: '/v1/session',
    key: null,
    payload: { email, password: PASSWORD },
  });
  if (response.statusCode !== 200) throw new Error(`login: ${response.statusCode} ${response.body}`);
  const cookie = String(response.headers['set-cookie']).split(';')[0]!;
  return { cookie, 'x-csrf-token': response.json().csrfToken };
}

const MATRIX: Record<string, Row> = {
  'POST /v1/session': {
    roles: ALL,
    public: true,
    auditsRefusals: true,
    // Own: a user's right password. Foreign: another tenant's user with a wrong one.
    request: async (scope) => {
      const email = `login${next()}@${scope}.test`;
      await created(
        {
          method: 'POST',
          url: '/v1/users',
          key: keyOf(scope),
          payload: { email, password: PASSWORD, role: 'agent' },
        },
        'user',
      );
      return {
        method: 'POST',
        url: '/v1/session',
        payload: { email, password: scope === 'own' ? PASSWORD : 'not the password' },
      };
    },
    own: 200,
    foreign: 401,
  },
  'GET /v1/session': {
    roles: ALL,
    request: async () => ({ method: 'GET', url: '/v1/session' }),
    own: 200,
    foreign: 200,
  },
  'DELETE /v1/session': {
    roles: ALL,
    request: async () => ({ method: 'DELETE', url: '/v1/session' }),
    own: 204,
    foreign: 204,
  },
  'POST /v1/users': {
    roles: ADMINS,
    request: async (scope) => ({
      method: 'POST',
      url: '/v1/users',
      payload: {
        email: `new${next()}@x.test`,
        password: PASSWORD,
        role: 'operator',
        ...(scope === 'foreign' ? { tenantId: 'other' } : {}),
      },
    }),
    own: 201,
    foreign: 404,
    platformForeign: 201,
  },
  'GET /v1/users': {
    roles: AUDIT_READERS,
    request: async (scope) => ({
      method: 'GET',
      url: `/v1/users${scope === 'foreign' ? '?tenantId=other' : ''}`,
    }),
    own: 200,
    foreign: 404,
    platformForeign: 200,
  },
  'PATCH /v1/users/{id}': {
    roles: ADMINS,
    request: async (scope) => ({
      method: 'PATCH',
      url: `/v1/users/${await fresh.user(scope)}${scope === 'foreign' ? '?tenantId=other' : ''}`,
      payload: { role: 'operator' },
    }),
    own: 200,
    foreign: 404,
    platformForeign: 200,
  },
  'DELETE /v1/users/{id}': {
    roles: ADMINS,
    request: async (scope) => ({
      method: 'DELETE',
      url: `/v1/users/${await fresh.user(scope)}${scope === 'foreign' ? '?tenantId=other' : ''}`,
    }),
    own: 204,
    foreign: 404,
    platformForeign: 204,
  },
  // Numbers in clear: administrators only, and a foreign campaign is not found even for them.
  'GET /v1/campaigns/{id}/tasks/export': {
    roles: ADMINS,
    request: async (scope) => ({
      method: 'GET',
      url: `/v1/campaigns/${await fresh.campaignWithTask(scope)}/tasks/export`,
    }),
    own: 200,
    foreign: 404,
  },
  'POST /v1/campaigns': {
    roles: WRITERS,
    // Foreign: naming the other tenant's exclusive line, which reads as no such line.
    request: async (scope) => ({
      method: 'POST',
      url: '/v1/campaigns',
      payload: { name: 'x', ...(scope === 'foreign' ? { lineIds: [await fresh.line('foreign')] } : {}) },
    }),
    own: 201,
    foreign: 400,
  },
  'GET /v1/campaigns': {
    roles: ALL,
    request: async () => ({ method: 'GET', url: '/v1/campaigns' }),
    own: 200,
    foreign: 200,
  },
  'GET /v1/campaigns/{id}': {
    roles: ALL,
    request: async (scope) => ({ method: 'GET', url: `/v1/campaigns/${await fresh.campaign(scope)}` }),
    own: 200,
    foreign: 404,
  },
  'GET /v1/campaigns/{id}/dispatch-status': {
    roles: ALL,
    request: async (scope) => ({
      method: 'GET',
      url: `/v1/campaigns/${await fresh.campaign(scope)}/dispatch-status`,
    }),
    own: 200,
    foreign: 404,
  },
  'PATCH /v1/campaigns/{id}': {
    roles: WRITERS,
    request: async (scope) => ({
      method: 'PATCH',
      url: `/v1/campaigns/${await fresh.campaign(scope)}`,
      payload: { name: 'renamed' },
    }),
    own: 200,
    foreign: 404,
  },
  ...Object.fromEntries(
    ['pause', 'resume', 'cancel'].map((action) => [
      `POST /v1/campaigns/{id}/${action}`,
      {
        roles: WRITERS,
        request: async (scope: Scope) => ({
          method: 'POST',
          url: `/v1/campaigns/${await fresh.campaign(scope)}/${action}`,
        }),
        own: 200,
        foreign: 404,
      } satisfies Row,
    ]),
  ),
  'POST /v1/campaigns/{id}/tasks': {
    roles: WRITERS,
    request: async (scope) => ({
      method: 'POST',
      url: `/v1/campaigns/${await fresh.campaign(scope)}/tasks`,
      payload: { number: chineseMobile(next()) },
    }),
    own: 201,
    foreign: 404,
  },
  ...Object.fromEntries(
    ['tasks:batch', 'tasks/batch'].map((suffix) => [
      `POST /v1/campaigns/{id}/${suffix}`,
      {
        roles: WRITERS,
        request: async (scope: Scope) => ({
          method: 'POST',
          url: `/v1/campaigns/${await fresh.campaign(scope)}/${suffix}`,
          payload: { tasks: [{ number: chineseMobile(next()) }] },
        }),
        own: 200,
        foreign: 404,
      } satisfies Row,
    ]),
  ),
  'GET /v1/tasks': {
    roles: ALL,
    request: async () => ({ method: 'GET', url: '/v1/tasks' }),
    own: 200,
    foreign: 200,
  },
  'GET /v1/tasks/{id}': {
    roles: ALL,
    request: async (scope) => ({ method: 'GET', url: `/v1/tasks/${await fresh.task(scope)}` }),
    own: 200,
    foreign: 404,
  },
  'POST /v1/tasks/{id}/cancel': {
    roles: WRITERS,
    request: async (scope) => ({ method: 'POST', url: `/v1/tasks/${await fresh.task(scope)}/cancel` }),
    own: 200,
    foreign: 404,
  },
  // Platform-owned resources: "foreign" makes no difference to switches and gateways.
  'POST /v1/switches': {
    roles: PLATFORM,
    request: async () => ({ method: 'POST', url: '/v1/switches', payload: switchBody() }),
    own: 201,
    foreign: 201,
  },
  'GET /v1/switches': {
    roles: PLATFORM,
    request: async () => ({ method: 'GET', url: '/v1/switches' }),
    own: 200,
    foreign: 200,
  },
  'GET /v1/switches/{id}': {
    roles: PLATFORM,
    request: async () => ({ method: 'GET', url: `/v1/switches/${await fresh.switch()}` }),
    own: 200,
    foreign: 200,
  },
  'PUT /v1/switches/{id}': {
    roles: PLATFORM,
    request: async () => ({
      method: 'PUT',
      url: `/v1/switches/${await fresh.switch()}`,
      payload: switchBody(),
    }),
    own: 200,
    foreign: 200,
  },
  'DELETE /v1/switches/{id}': {
    roles: PLATFORM,
    request: async () => ({ method: 'DELETE', url: `/v1/switches/${await fresh.switch()}` }),
    own: 204,
    foreign: 204,
  },
  'POST /v1/gateways': {
    roles: PLATFORM,
    request: async () => ({
      method: 'POST',
      url: '/v1/gateways',
      payload: { name: `gw${next()}`, switchIds: [await fresh.switch()] },
    }),
    own: 201,
    foreign: 201,
  },
  'GET /v1/gateways': {
    roles: PLATFORM,
    request: async () => ({ method: 'GET', url: '/v1/gateways' }),
    own: 200,
    foreign: 200,
  },
  'GET /v1/gateways/{id}': {
    roles: PLATFORM,
    request: async () => ({ method: 'GET', url: `/v1/gateways/${await fresh.gateway()}` }),
    own: 200,
    foreign: 200,
  },
  'PUT /v1/gateways/{id}': {
    roles: PLATFORM,
    request: async () => ({
      method: 'PUT',
      url: `/v1/gateways/${await fresh.gateway()}`,
      payload: { name: `gw${next()}`, switchIds: [await fresh.switch()] },
    }),
    own: 200,
    foreign: 200,
  },
  'DELETE /v1/gateways/{id}': {
    roles: PLATFORM,
    request: async () => ({ method: 'DELETE', url: `/v1/gateways/${await fresh.gateway()}` }),
    own: 204,
    foreign: 204,
  },
  'POST /v1/lines': {
    roles: PLATFORM,
    request: async (scope) => ({
      method: 'POST',
      url: '/v1/lines',
      payload: {
        name: `line${next()}`,
        gatewayId: await fresh.gateway(),
        caps: 1,
        maxConcurrent: 1,
        tenantId: scope === 'own' ? 'acme' : 'other',
      },
    }),
    own: 201,
    foreign: 201,
  },
  // Lines are read by tenant roles: their own and shared ones, never another tenant's.
  'GET /v1/lines': {
    roles: LINE_READERS,
    request: async () => ({ method: 'GET', url: '/v1/lines' }),
    own: 200,
    foreign: 200,
    platformSeesAll: true,
  },
  'GET /v1/lines/{id}': {
    roles: LINE_READERS,
    request: async (scope) => ({ method: 'GET', url: `/v1/lines/${await fresh.line(scope)}` }),
    own: 200,
    foreign: 404,
    platformForeign: 200,
  },
  'GET /v1/lines/{id}/health': {
    roles: LINE_READERS,
    request: async (scope) => ({ method: 'GET', url: `/v1/lines/${await fresh.line(scope)}/health` }),
    own: 200,
    foreign: 404,
    platformForeign: 200,
  },
  'PUT /v1/lines/{id}/health': {
    roles: PLATFORM,
    request: async (scope) => ({
      method: 'PUT',
      url: `/v1/lines/${await fresh.line(scope)}/health`,
      payload: { override: 'out' },
    }),
    own: 200,
    foreign: 200,
  },
  'PUT /v1/lines/{id}': {
    roles: PLATFORM,
    request: async (scope) => ({
      method: 'PUT',
      url: `/v1/lines/${await fresh.line(scope)}`,
      payload: {
        name: `line${next()}`,
        gatewayId: await fresh.gateway(),
        caps: 2,
        maxConcurrent: 2,
        tenantId: scope === 'own' ? 'acme' : 'other',
      },
    }),
    own: 200,
    foreign: 200,
  },
  'DELETE /v1/lines/{id}': {
    roles: PLATFORM,
    request: async (scope) => ({ method: 'DELETE', url: `/v1/lines/${await fresh.line(scope)}` }),
    own: 204,
    foreign: 204,
  },
  'POST /v1/tenants': {
    roles: PLATFORM,
    request: async () => ({ method: 'POST', url: '/v1/tenants', payload: { id: `t${next()}`, name: 'New' } }),
    own: 201,
    foreign: 201,
  },
  'GET /v1/tenants': {
    roles: LINE_READERS,
    request: async () => ({ method: 'GET', url: '/v1/tenants' }),
    own: 200,
    foreign: 200,
    platformSeesAll: true,
  },
  'GET /v1/tenants/{id}': {
    roles: LINE_READERS,
    request: async (scope) => ({ method: 'GET', url: `/v1/tenants/${scope === 'own' ? 'acme' : 'other'}` }),
    own: 200,
    foreign: 404,
    platformForeign: 200,
  },
  'PATCH /v1/tenants/{id}': {
    roles: PLATFORM,
    request: async (scope) => ({
      method: 'PATCH',
      url: `/v1/tenants/${scope === 'own' ? 'acme' : 'other'}`,
      payload: { limits: { maxDailyAttempts: 1000 + next() } },
    }),
    own: 200,
    foreign: 200,
  },
  'POST /v1/api-keys': {
    roles: ADMINS,
    request: async (scope) => ({
      method: 'POST',
      url: '/v1/api-keys',
      payload: {
        name: `k${next()}`,
        role: 'operator',
        ...(scope === 'foreign' ? { tenantId: 'other' } : {}),
      },
    }),
    own: 201,
    foreign: 404,
    platformForeign: 201,
  },
  'GET /v1/api-keys': {
    roles: AUDIT_READERS,
    request: async (scope) => ({
      method: 'GET',
      url: `/v1/api-keys${scope === 'foreign' ? '?tenantId=other' : ''}`,
    }),
    own: 200,
    foreign: 404,
    platformForeign: 200,
  },
  'DELETE /v1/api-keys/{id}': {
    roles: ADMINS,
    request: async (scope) => ({
      method: 'DELETE',
      url: `/v1/api-keys/${await fresh.apiKey(scope)}${scope === 'foreign' ? '?tenantId=other' : ''}`,
    }),
    own: 200,
    foreign: 404,
    platformForeign: 200,
  },
  'GET /v1/audit': {
    roles: AUDIT_READERS,
    request: async (scope) => ({
      method: 'GET',
      url: `/v1/audit?limit=1000${scope === 'foreign' ? '&tenantId=other' : ''}`,
    }),
    own: 200,
    foreign: 404,
    platformForeign: 200,
    platformSeesAll: true,
  },
  'POST /v1/erasures': {
    roles: ADMINS,
    request: async (scope) => ({
      method: 'POST',
      url: '/v1/erasures',
      payload: {
        by: 'task',
        taskId: await fresh.task(scope),
        ...(scope === 'foreign' ? { tenantId: 'other' } : {}),
      },
    }),
    own: 200,
    foreign: 404,
    platformForeign: 200,
  },
};

beforeAll(async () => {
  h = await makeHarness(dir.path, { rateLimit: false });
  for (const role of ROLES) {
    const response = await h.call({ method: 'POST', url: '/v1/api-keys', payload: { name: role, role } });
    expect(response.statusCode).toBe(201);
    roleKeys.set(role, response.json().key);
    const email = `${role}@acme.test`;
    const user = await h.call({
      method: 'POST',
      url: '/v1/users',
      payload: { email, password: PASSWORD, role },
    });
    expect(user.statusCode).toBe(201);
    roleSessions.set(role, await logIn(email));
  }
  // The foreign tenant's standing objects, whose ids must never leak to acme's tenant roles.
  const campaignId = await fresh.campaign('foreign');
  const taskId = await created(
    {
      method: 'POST',
      url: `/v1/campaigns/${campaignId}/tasks`,
      key: OTHER_KEY,
      payload: { number: chineseMobile(999) },
    },
    'task',
  );
  foreignIds.push(
    campaignId,
    taskId,
    await fresh.line('foreign'),
    await fresh.apiKey('foreign'),
    await fresh.user('foreign'),
    '"other"',
  );
});
afterAll(async () => {
  await h.close();
  dir.remove();
});

describe('authorization matrix', () => {
  it('has a row for every route the API serves under /v1', async () => {
    const doc = (await h.call({ method: 'GET', url: '/openapi.json', key: null })).json();
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      );
    expect(routes.sort()).toEqual(Object.keys(MATRIX).sort());
    // and the router serves each of them (the document is generated from the same routes)
    for (const route of Object.keys(MATRIX)) {
      const [method, path] = route.split(' ') as [string, string];
      const url = path.replaceAll('{id}', ':id').replace('tasks:batch', 'tasks::batch');
      expect(h.app.hasRoute({ method: method as 'GET', url }), route).toBe(true);
    }
  });

  it('refuses every /v1 route without credentials, but login', async () => {
    for (const [route, row] of Object.entries(MATRIX)) {
      const response = await h.call({ ...(await row.request('own')), key: null });
      expect(response.statusCode, route).toBe(row.public ? row.own : 401);
    }
    expect(
      Object.entries(MATRIX)
        .filter(([, row]) => row.public)
        .map(([route]) => route),
    ).toEqual(['POST /v1/session']);
  });

  it.each(MODES)(
    'gives every role (%s), on its own and on a foreign tenant, exactly the expected status, and leaks nothing',
    async (mode) => {
      const failures: string[] = [];
      let cells = 0;
      const as = (role: Role) =>
        mode === 'api key' ? { key: roleKeys.get(role)! } : { key: null, headers: roleSessions.get(role)! };
      for (const [route, row] of Object.entries(MATRIX)) {
        for (const role of ROLES) {
          for (const scope of ['own', 'foreign'] as const) {
            const allowed = row.roles.includes(role);
            const expected = !allowed
              ? 403
              : scope === 'own'
                ? row.own
                : role === 'platform_admin'
                  ? (row.platformForeign ?? row.foreign)
                  : row.foreign;
            cells += 1;
            const request = await row.request(scope);
            const headBefore = (await h.store.audit.head())?.seq;
            const response = await h.call({ ...request, ...as(role) });
            const cell = `${route} as ${role} (${scope}, ${mode})`;
            // Logging out ends this role's session: the next cells need a new one.
            if (mode === 'session' && route === 'DELETE /v1/session') {
              roleSessions.set(role, await logIn(`${role}@acme.test`));
            }
            if (response.statusCode !== expected)
              failures.push(`${cell}: ${response.statusCode}, expected ${expected}: ${response.body}`);
            if (response.statusCode >= 400 && !row.auditsRefusals) {
              // A refusal changes nothing: no audited operation happened.
              if ((await h.store.audit.head())?.seq !== headBefore)
                failures.push(`${cell}: refused but audited`);
            }
            const mayShowForeign =
              role === 'platform_admin' &&
              (scope === 'foreign' || row.platformSeesAll === true) &&
              response.statusCode < 300;
            if (!mayShowForeign) {
              for (const id of foreignIds)
                if (response.body.includes(id)) failures.push(`${cell}: leaked ${id}`);
            }
          }
        }
      }
      expect(failures).toEqual([]);
      expect(cells).toBe(Object.keys(MATRIX).length * ROLES.length * 2);
    },
  );
});
