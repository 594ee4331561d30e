import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACME_KEY, type Harness, makeHarness, OTHER_KEY } from '../api/harness.js';
import { makeTempDir } from '../support/temp-dir.js';

const dir = makeTempDir();
afterAll(() => dir.remove());

let h: Harness;
beforeEach(async () => {
  h = await makeHarness(dir.path);
});
afterEach(() => h.close());

async function createKey(body: Record<string, unknown>, key = ACME_KEY) {
  return h.call({ method: 'POST', url: '/v1/api-keys', key, payload: body });
}

describe('API keys', () => {
  it('shows the key once, stores only its hash, scopes it to its tenant and role, and records its last use', async () => {
    const created = await createKey({ name: 'crm', role: 'operator' });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { key, id, ...view } = created.json();
    expect(key).toMatch(/^sbk_[A-Za-z0-9_-]{43}$/);
    expect(view).toMatchObject({
      tenantId: 'acme',
      role: 'operator',
      prefix: key.slice(0, 10),
      lastUsedAt: null,
    });

    const db = new Database(h.dbPath, { readonly: true });
    const dump = JSON.stringify(db.prepare('SELECT * FROM api_keys').all());
    db.close();
    expect(dump).not.toContain(key);

    // the key works, as an operator of acme only
    expect((await h.call({ method: 'GET', url: '/v1/campaigns', key })).statusCode).toBe(200);
    expect((await h.call({ method: 'GET', url: '/v1/switches', key })).statusCode).toBe(403);
    const listed = await h.call({ method: 'GET', url: '/v1/api-keys' });
    const record = listed.json().items.find((k: { id: string }) => k.id === id);
    expect(record.lastUsedAt).toBe(new Date(h.clock.now).toISOString());
    expect(listed.body).not.toContain(key);
    // another tenant does not see it
    expect((await h.call({ method: 'GET', url: '/v1/api-keys', key: OTHER_KEY })).body).not.toContain(id);
  });

  it('stops a revoked key at once; revoking twice is harmless', async () => {
    const { key, id } = (await createKey({ name: 'temp', role: 'tenant_admin' })).json();
    expect((await h.call({ method: 'GET', url: '/v1/tasks', key })).statusCode).toBe(200);
    const revoked = await h.call({ method: 'DELETE', url: `/v1/api-keys/${id}` });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revokedAt).toBe(new Date(h.clock.now).toISOString());
    expect((await h.call({ method: 'GET', url: '/v1/tasks', key })).statusCode).toBe(401);
    expect((await h.call({ method: 'DELETE', url: `/v1/api-keys/${id}` })).statusCode).toBe(200);
  });

  it('never hands out more than the creator has', async () => {
    const tenantAdmin = (await createKey({ name: 'admin', role: 'tenant_admin' })).json().key;
    const escalation = await createKey({ name: 'root', role: 'platform_admin' }, tenantAdmin);
    expect(escalation.statusCode).toBe(403);
    expect((await createKey({ name: 'ops', role: 'operator' }, tenantAdmin)).statusCode).toBe(201);
    const elsewhere = await createKey({ name: 'x', role: 'operator', tenantId: 'other' }, tenantAdmin);
    expect(elsewhere.statusCode).toBe(404);
    const operator = (await createKey({ name: 'ops2', role: 'operator' })).json().key;
    expect((await createKey({ name: 'y', role: 'agent' }, operator)).statusCode).toBe(403);
    // a platform admin makes keys for any existing tenant, and none for a missing one
    expect((await createKey({ name: 'z', role: 'auditor', tenantId: 'other' })).json().tenantId).toBe(
      'other',
    );
    expect((await createKey({ name: 'z', role: 'auditor', tenantId: 'nobody' })).statusCode).toBe(404);
  });
});

describe('rate limit per key', () => {
  it('answers 429 problem+json with Retry-After once the bucket is empty, per key, and refills with time', async () => {
    const limited = await makeHarness(dir.path, { rateLimit: { perSecond: 2, burst: 3 } });
    try {
      const newKey = async (name: string): Promise<string> =>
        (
          await limited.call({ method: 'POST', url: '/v1/api-keys', payload: { name, role: 'operator' } })
        ).json().key;
      const key = await newKey('a');
      const otherKey = await newKey('b');
      const get = (as: string | undefined) =>
        limited.call({ method: 'GET', url: '/v1/campaigns', ...(as === undefined ? {} : { key: as }) });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await get(key)).statusCode);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await get(key);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.json().code).toBe('rate_limited');
      // another key has its own bucket; the bootstrap key from config is not limited
      expect((await get(otherKey)).statusCode).toBe(200);
      for (let i = 0; i < 5; i++) expect((await get(undefined)).statusCode).toBe(200);
      limited.clock.now += 500; // one token back
      expect((await get(key)).statusCode).toBe(200);
      expect((await get(key)).statusCode).toBe(429);
    } finally {
      await limited.close();
    }
  });
});

describe('tenants', () => {
  it('creates a tenant with limits and a destination policy, and lets its roles read it', async () => {
    const created = await h.call({
      method: 'POST',
      url: '/v1/tenants',
      payload: {
        id: 'globex',
        name: 'Globex',
        limits: { maxCaps: 20, maxConcurrent: 200, maxDailyAttempts: 50_000 },
        destinations: { allowPrefixes: ['+86'], denyPrefixes: ['+86170'] },
      },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      id: 'globex',
      limits: { maxCaps: 20, maxConcurrent: 200, maxDailyAttempts: 50_000 },
      destinations: { allowPrefixes: ['+86'], denyPrefixes: ['+86170'], allowPremiumRate: false },
      version: 1,
    });
    expect(
      (await h.call({ method: 'POST', url: '/v1/tenants', payload: { id: 'globex', name: 'Again' } })).json()
        .code,
    ).toBe('tenant_exists');
    const patched = await h.call({
      method: 'PATCH',
      url: '/v1/tenants/globex',
      headers: { 'if-match': '"1"' },
      payload: { limits: { maxCaps: null } },
    });
    expect(patched.json()).toMatchObject({ limits: { maxCaps: null, maxConcurrent: 200 }, version: 2 });
    const stale = await h.call({
      method: 'PATCH',
      url: '/v1/tenants/globex',
      payload: { name: 'G', version: 1 },
    });
    expect(stale.statusCode).toBe(409);

    const key = (await createKey({ name: 'g', role: 'auditor', tenantId: 'globex' })).json().key;
    expect(
      (await h.call({ method: 'GET', url: '/v1/tenants/globex', key })).json().limits.maxDailyAttempts,
    ).toBe(50_000);
    expect(
      (await h.call({ method: 'GET', url: '/v1/tenants', key }))
        .json()
        .items.map((t: { id: string }) => t.id),
    ).toEqual(['globex']);
    // the store exposes the limits for the scheduler
    expect((await h.store.tenantProfiles.get('globex'))?.limits).toEqual({
      maxCaps: null,
      maxConcurrent: 200,
      maxDailyAttempts: 50_000,
    });
  });
});
