import { afterAll, afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { runSecurityCommand } from '../../src/cli/security-commands.js';
import { ACME_KEY, type Harness, makeHarness } from '../api/harness.js';
import { makeTempDir } from '../support/temp-dir.js';
import { type CliSite, cliStoreKinds } from './cli-stores.js';

/**
 * Service tokens (issue 6 §1): made on the command line, stored hashed, and a door of their own —
 * they open /internal and nothing else, and nothing else opens /internal.
 */
const dir = makeTempDir();
afterAll(() => dir.remove());
const kinds = await cliStoreKinds();

async function cli(site: CliSite, args: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runSecurityCommand(
    'tokens',
    [...args, '--data-dir', site.dataDir],
    (line) => lines.push(line),
    site.env,
  );
  return { code, lines };
}

describe.each(kinds.map((kind) => [kind.name, kind] as const))('%s: tokens command', (_name, kind) => {
  it('`tokens create --role worker` prints the token once, stores its hash, audits; list and revoke work', async () => {
    const site = await kind.site(dir.path);
    onTestFinished(() => site.dispose());
    const created = await cli(site, ['create', '--role', 'worker', '--name', 'worker-a']);
    expect(created.code).toBe(0);
    const token = created.lines[1]!;
    expect(token).toMatch(/^sbs_[A-Za-z0-9_-]{43}$/);
    expect((await cli(site, ['create', '--role', 'platform_admin'])).code).toBe(2);

    const listed = await cli(site, ['list']);
    expect(listed.lines).toHaveLength(1);
    expect(listed.lines[0]).toMatch(/ worker +sbs_.{6}… +worker-a +active$/);
    expect(listed.lines.join('\n')).not.toContain(token);
    const id = listed.lines[0]!.split(' ')[0]!;
    expect((await cli(site, ['revoke', id])).code).toBe(0);
    expect((await cli(site, ['list'])).lines[0]).toContain('revoked');

    const store = await site.open();
    try {
      const [record] = await store.serviceTokens.list();
      expect(JSON.stringify(record)).not.toContain(token);
      const actions = (await store.audit.list({ limit: 10 })).map((e) => [e.action, e.actor]);
      expect(actions).toEqual([
        ['service_token.create', 'cli'],
        ['service_token.revoke', 'cli'],
      ]);
    } finally {
      await store.close();
    }
  });
});

let h: Harness;

async function tokenFor(role: 'api' | 'scheduler' | 'worker'): Promise<{ id: string; token: string }> {
  const { generateServiceToken } = await import('../../src/security/service-tokens.js');
  const secret = generateServiceToken();
  const record = await h.store.serviceTokens.create({
    id: `t-${role}-${Math.floor(h.clock.now)}`,
    role,
    name: role,
    tokenHash: secret.hash,
    tokenPrefix: secret.prefix,
    createdAt: h.clock.now,
  });
  return { id: record.id, token: secret.token };
}

describe('service tokens', () => {
  beforeEach(async () => {
    h = await makeHarness(dir.path, { rateLimit: false });
  });
  afterEach(() => h.close());

  it('opens /internal only, and /internal opens to nothing else', async () => {
    const worker = await tokenFor('worker');
    const ping = await h.call({ method: 'GET', url: '/internal/v1/ping', key: worker.token });
    expect(ping.statusCode).toBe(200);
    expect(ping.json()).toEqual({ role: 'worker', tokenId: worker.id });
    // not a key for /v1
    for (const url of ['/v1/session', '/v1/campaigns', '/v1/switches']) {
      expect((await h.call({ method: 'GET', url, key: worker.token })).statusCode, url).toBe(401);
    }
    // neither the bootstrap key, a tenant key, nor a session opens /internal
    const tenantKey = (
      await h.call({ method: 'POST', url: '/v1/api-keys', payload: { name: 'adm', role: 'tenant_admin' } })
    ).json().key;
    await h.call({
      method: 'POST',
      url: '/v1/users',
      payload: { email: 'root@acme.test', password: 'a long enough password', role: 'platform_admin' },
    });
    const login = await h.call({
      method: 'POST',
      url: '/v1/session',
      key: null,
      payload: { email: 'root@acme.test', password: 'a long enough password' },
    });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    for (const [who, options] of [
      ['bootstrap key', { key: ACME_KEY }],
      ['tenant key', { key: tenantKey }],
      ['session', { key: null, headers: { cookie, 'x-csrf-token': login.json().csrfToken } }],
      ['nothing', { key: null }],
    ] as const) {
      const response = await h.call({ method: 'GET', url: '/internal/v1/ping', ...options });
      expect(response.statusCode, who).toBe(401);
      expect(response.json().code).toBe('unauthorized');
    }
    // revoked: closed at once
    await h.store.serviceTokens.revoke(worker.id, h.clock.now);
    expect((await h.call({ method: 'GET', url: '/internal/v1/ping', key: worker.token })).statusCode).toBe(
      401,
    );
  });
});
