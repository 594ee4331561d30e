import Database from 'better-sqlite3';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ACME_KEY, type Harness, makeHarness } from '../api/harness.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * Console users and sessions (issue 6 §1): argon2id hashes, the sb_session cookie and its flags,
 * idle and absolute expiry on the API's clock, CSRF on cookie-authenticated writes, login
 * throttling per account and per address, and the audit entries of every login.
 */
const dir = makeTempDir();
afterAll(() => dir.remove());

const PASSWORD = 'correct horse battery staple';
const MINUTE = 60_000;

let h: Harness;
afterEach(() => h?.close());

async function setUp(security?: Parameters<typeof makeHarness>[2]): Promise<Harness> {
  h = await makeHarness(dir.path, { rateLimit: false }, security);
  return h;
}

async function createUser(email: string, role = 'operator', key = ACME_KEY) {
  const response = await h.call({
    method: 'POST',
    url: '/v1/users',
    key,
    payload: { email, password: PASSWORD, role },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as { id: string; email: string };
}

function login(email: string, password = PASSWORD, headers: Record<string, string> = {}) {
  return h.call({ method: 'POST', url: '/v1/session', key: null, headers, payload: { email, password } });
}

/** The headers a browser would send after this login: the cookie, and our page's CSRF header. */
function sessionHeaders(response: LightMyRequestResponse): Record<string, string> {
  const cookie = String(response.headers['set-cookie']).split(';')[0]!;
  return { cookie, 'x-csrf-token': response.json().csrfToken };
}

async function auditActions(): Promise<string[]> {
  return (await h.store.audit.list({ limit: 1000 })).map((e) => e.action);
}

describe('console users and sessions', () => {
  it('stores an argon2id hash, never the password, and logs in with a hardened cookie', async () => {
    await setUp();
    const user = await createUser('Ops@Acme.test');
    expect(user.email).toBe('ops@acme.test');
    const db = new Database(h.dbPath, { readonly: true });
    const row = db.prepare('SELECT password_hash FROM users').get() as { password_hash: string };
    const dump = JSON.stringify(db.prepare('SELECT * FROM users').all());
    db.close();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(dump).not.toContain(PASSWORD);

    const response = await login('OPS@acme.test');
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const cookie = String(response.headers['set-cookie']);
    expect(cookie).toMatch(
      /^sb_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
    );
    expect(response.json()).toMatchObject({
      via: 'session',
      tenantId: 'acme',
      role: 'operator',
      actor: `user:${user.id}`,
      user: { id: user.id, email: 'ops@acme.test', lastLoginAt: new Date(h.clock.now).toISOString() },
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expiresAt: new Date(h.clock.now + 30 * MINUTE).toISOString(),
    });
    expect(response.json().permissions).toContain('campaigns:write');
    expect(response.body).not.toContain('argon2');

    // Only the session id's hash is stored.
    const sessionId = cookie.split(';')[0]!.split('=')[1]!;
    const sessions = new Database(h.dbPath, { readonly: true });
    expect(JSON.stringify(sessions.prepare('SELECT * FROM sessions').all())).not.toContain(sessionId);
    sessions.close();

    const who = await h.call({
      method: 'GET',
      url: '/v1/session',
      key: null,
      headers: sessionHeaders(response),
    });
    expect(who.statusCode).toBe(200);
    expect(who.json()).toMatchObject({ via: 'session', csrfToken: response.json().csrfToken });
    // the same route tells an API key who it is
    expect((await h.call({ method: 'GET', url: '/v1/session' })).json()).toMatchObject({
      via: 'bootstrap',
      role: 'platform_admin',
      user: null,
      csrfToken: null,
    });
  });

  it('marks the cookie Secure behind TLS only when the proxy is trusted', async () => {
    await setUp({ trustProxy: true });
    await createUser('tls@acme.test');
    const proxied = await login('tls@acme.test', PASSWORD, { 'x-forwarded-proto': 'https' });
    expect(String(proxied.headers['set-cookie'])).toMatch(/; Secure$/);
    expect(String((await login('tls@acme.test')).headers['set-cookie'])).not.toContain('Secure');
    await h.close();

    await setUp();
    await createUser('tls@acme.test');
    const untrusted = await login('tls@acme.test', PASSWORD, { 'x-forwarded-proto': 'https' });
    expect(String(untrusted.headers['set-cookie'])).not.toContain('Secure');
  });

  it('requires the CSRF token on cookie-authenticated writes, not on reads nor with API keys', async () => {
    await setUp();
    await createUser('writer@acme.test');
    const headers = sessionHeaders(await login('writer@acme.test'));
    const create = (extra: Record<string, string>) =>
      h.call({ method: 'POST', url: '/v1/campaigns', key: null, headers: extra, payload: { name: 'c' } });

    const missing = await create({ cookie: headers.cookie! });
    expect(missing.statusCode).toBe(403);
    expect(missing.json().code).toBe('csrf_failed');
    const wrong = await create({ cookie: headers.cookie!, 'x-csrf-token': 'A'.repeat(43) });
    expect(wrong.json().code).toBe('csrf_failed');
    // a token of another session does not fit this one
    const other = sessionHeaders(await login('writer@acme.test'));
    expect(
      (await create({ cookie: headers.cookie!, 'x-csrf-token': other['x-csrf-token']! })).statusCode,
    ).toBe(403);
    expect((await create(headers)).statusCode).toBe(201);
    expect(
      (await h.call({ method: 'GET', url: '/v1/campaigns', key: null, headers: { cookie: headers.cookie! } }))
        .statusCode,
    ).toBe(200);
    // An API key needs no token; a cookie beside it is ignored.
    expect(
      (
        await h.call({
          method: 'POST',
          url: '/v1/campaigns',
          headers: { cookie: headers.cookie! },
          payload: { name: 'k' },
        })
      ).statusCode,
    ).toBe(201);
    const campaigns = (await h.store.audit.list({ limit: 100 })).filter(
      (e) => e.action === 'campaign.create',
    );
    expect(campaigns.map((e) => e.actor)).toEqual([expect.stringMatching(/^user:/), 'bootstrap:acme']);
  });

  it('ends a session when idle too long, at its absolute expiry, and at logout', async () => {
    await setUp({ sessions: { idleMs: 10 * MINUTE, absoluteMs: 60 * MINUTE } });
    await createUser('clock@acme.test');
    const whoAmI = (headers: Record<string, string>) =>
      h.call({ method: 'GET', url: '/v1/session', key: null, headers });

    const idle = sessionHeaders(await login('clock@acme.test'));
    h.clock.now += 9 * MINUTE;
    expect((await whoAmI(idle)).statusCode).toBe(200);
    h.clock.now += 9 * MINUTE; // 9 min after the last use: still alive
    expect((await whoAmI(idle)).statusCode).toBe(200);
    h.clock.now += 10 * MINUTE + 1;
    expect((await whoAmI(idle)).statusCode).toBe(401);
    h.clock.now -= 10 * MINUTE + 1; // the expired session was deleted, not just refused
    expect((await whoAmI(idle)).statusCode).toBe(401);

    const busy = sessionHeaders(await login('clock@acme.test'));
    for (let minutes = 0; minutes < 55; minutes += 5) {
      h.clock.now += 5 * MINUTE;
      expect((await whoAmI(busy)).statusCode, `${minutes + 5} min`).toBe(200);
    }
    h.clock.now += 5 * MINUTE; // 60 min after login, however busy
    expect((await whoAmI(busy)).statusCode).toBe(401);

    const leaving = sessionHeaders(await login('clock@acme.test'));
    const noToken = await h.call({
      method: 'DELETE',
      url: '/v1/session',
      key: null,
      headers: { cookie: leaving.cookie! },
    });
    expect(noToken.json().code).toBe('csrf_failed');
    const out = await h.call({ method: 'DELETE', url: '/v1/session', key: null, headers: leaving });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^sb_session=; .*Max-Age=0/);
    expect((await whoAmI(leaving)).statusCode).toBe(401);
    expect(await auditActions()).toContain('session.logout');
  });

  it('answers an unknown e-mail, a wrong password and a disabled account alike, and audits each login', async () => {
    await setUp();
    const user = await createUser('who@acme.test');
    const unknown = await login('nobody@acme.test', 'whatever-it-is');
    const wrong = await login('who@acme.test', 'not the password');
    await h.call({ method: 'PATCH', url: `/v1/users/${user.id}`, payload: { disabled: true } });
    const disabled = await login('who@acme.test');
    for (const response of [unknown, wrong, disabled]) {
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({
        code: 'invalid_credentials',
        detail: 'the e-mail or the password is wrong',
      });
      expect(response.headers['set-cookie']).toBeUndefined();
    }
    await h.call({ method: 'PATCH', url: `/v1/users/${user.id}`, payload: { disabled: false } });
    expect((await login('who@acme.test')).statusCode).toBe(200);

    const entries = (await h.store.audit.list({ limit: 100 })).filter((e) => e.action.startsWith('session.'));
    expect(
      entries.map((e) => [e.action, e.actor, e.target, e.tenantId, JSON.parse(e.after ?? 'null')]),
    ).toEqual([
      ['session.login_failed', 'anonymous', null, null, { reason: 'unknown_user' }],
      ['session.login_failed', 'anonymous', `user:${user.id}`, 'acme', { reason: 'wrong_password' }],
      ['session.login_failed', 'anonymous', `user:${user.id}`, 'acme', { reason: 'disabled' }],
      ['session.login', `user:${user.id}`, `user:${user.id}`, 'acme', null],
    ]);
    expect(entries.every((e) => e.sourceIp === '127.0.0.1')).toBe(true);
    // The e-mail typed for an unknown account is not kept (people type passwords there).
    expect(JSON.stringify(await h.store.audit.list({ limit: 100 }))).not.toContain('nobody@');
  });

  it('throttles failed logins per account with growing delays, then per address, and says when to retry', async () => {
    await setUp({
      loginThrottle: {
        windowMs: 15 * MINUTE,
        accountThreshold: 3,
        addressThreshold: 6,
        baseDelayMs: 1_000,
        maxDelayMs: 60_000,
        maxEntries: 100,
      },
    });
    await createUser('target@acme.test');
    await createUser('bystander@acme.test');
    for (let i = 0; i < 2; i += 1) expect((await login('target@acme.test', 'guess')).statusCode).toBe(401);
    expect((await login('target@acme.test', 'guess')).statusCode).toBe(401); // third: locks 1 s
    const locked = await login('target@acme.test'); // even the right password waits
    expect(locked.statusCode).toBe(429);
    expect(locked.json().code).toBe('login_throttled');
    expect(locked.headers['retry-after']).toBe('1');
    h.clock.now += 1_000;
    expect((await login('target@acme.test', 'guess')).statusCode).toBe(401); // fourth: 2 s
    h.clock.now += 1_000;
    expect((await login('target@acme.test')).headers['retry-after']).toBe('1');
    h.clock.now += 1_000;
    expect((await login('target@acme.test', 'guess')).statusCode).toBe(401); // fifth: 4 s
    expect((await login('target@acme.test')).headers['retry-after']).toBe('4');
    // Another account from the same address is still let in until the address's own threshold.
    expect((await login('bystander@acme.test')).statusCode).toBe(200);
    expect((await login('bystander@acme.test', 'guess')).statusCode).toBe(401); // address: 6th failure
    const addressLocked = await login('bystander@acme.test');
    expect(addressLocked.statusCode).toBe(429);
    // ... but not another address.
    const elsewhere = await h.app.inject({
      method: 'POST',
      url: '/v1/session',
      remoteAddress: '10.1.2.3',
      payload: { email: 'bystander@acme.test', password: PASSWORD },
    });
    expect(elsewhere.statusCode).toBe(200);
    // The lock-outs are in the audit log with the failures that caused them.
    const failures = (await h.store.audit.list({ limit: 100 })).filter(
      (e) => e.action === 'session.login_failed',
    );
    expect(failures.map((e) => JSON.parse(e.after!).locked ?? [])).toEqual([
      [],
      [],
      ['account'],
      ['account'],
      ['account'],
      ['address'],
    ]);
    // After the window a success clears the account.
    h.clock.now += 16 * MINUTE;
    expect((await login('target@acme.test')).statusCode).toBe(200);
  });
});

describe('console users API', () => {
  it('treats a session exactly as its role: no escalation, no touching a platform admin', async () => {
    await setUp();
    const admin = await createUser('admin@acme.test', 'tenant_admin');
    const platform = await createUser('root@acme.test', 'platform_admin');
    const headers = sessionHeaders(await login('admin@acme.test'));
    const asAdmin = (method: 'POST' | 'PATCH' | 'DELETE' | 'GET', url: string, payload?: object) =>
      h.call({ method, url, key: null, headers, ...(payload ? { payload } : {}) });

    expect(
      (
        await asAdmin('POST', '/v1/users', {
          email: 'x@acme.test',
          password: PASSWORD,
          role: 'platform_admin',
        })
      ).statusCode,
    ).toBe(403);
    expect((await asAdmin('PATCH', `/v1/users/${admin.id}`, { role: 'platform_admin' })).statusCode).toBe(
      403,
    );
    expect(
      (await asAdmin('PATCH', `/v1/users/${platform.id}`, { password: 'a new password here' })).statusCode,
    ).toBe(403);
    expect((await asAdmin('DELETE', `/v1/users/${platform.id}`)).statusCode).toBe(403);
    expect(
      (
        await asAdmin('POST', '/v1/users', {
          email: 'x@acme.test',
          password: PASSWORD,
          role: 'operator',
          tenantId: 'other',
        })
      ).statusCode,
    ).toBe(404);
    const made = await asAdmin('POST', '/v1/users', {
      email: 'op@acme.test',
      password: PASSWORD,
      role: 'operator',
    });
    expect(made.statusCode).toBe(201);
    expect(made.json().createdBy).toBe(`user:${admin.id}`);
    expect(
      (
        await asAdmin('POST', '/v1/users', { email: 'OP@acme.test', password: PASSWORD, role: 'agent' })
      ).json().code,
    ).toBe('email_taken');
    expect(
      (await asAdmin('POST', '/v1/users', { email: 'y@acme.test', password: 'short', role: 'agent' }))
        .statusCode,
    ).toBe(400);
    // a tenant admin's session cannot reach platform routes either
    expect((await asAdmin('GET', '/v1/switches')).statusCode).toBe(403);
    const listed = await asAdmin('GET', '/v1/users');
    expect(
      listed
        .json()
        .items.map((u: { email: string }) => u.email)
        .sort(),
    ).toEqual(['admin@acme.test', 'op@acme.test', 'root@acme.test']);
    expect(listed.body).not.toContain('argon2');
  });

  it('ends sessions on a new password or disabling, applies a role change at once, and audits every change', async () => {
    await setUp();
    const user = await createUser('moving@acme.test', 'tenant_admin');
    const first = sessionHeaders(await login('moving@acme.test'));
    const asUser = (url: string) => h.call({ method: 'GET', url, key: null, headers: first });
    expect((await asUser('/v1/audit')).statusCode).toBe(200);
    await h.call({ method: 'PATCH', url: `/v1/users/${user.id}`, payload: { role: 'agent' } });
    expect((await asUser('/v1/audit')).statusCode).toBe(403); // same session, new role
    const changed = await h.call({
      method: 'PATCH',
      url: `/v1/users/${user.id}`,
      payload: { password: 'an entirely new passphrase' },
    });
    expect(changed.statusCode).toBe(200);
    expect((await asUser('/v1/tasks')).statusCode).toBe(401);
    expect((await login('moving@acme.test')).statusCode).toBe(401);
    expect((await login('moving@acme.test', 'an entirely new passphrase')).statusCode).toBe(200);
    expect((await h.call({ method: 'DELETE', url: `/v1/users/${user.id}` })).statusCode).toBe(204);
    expect((await login('moving@acme.test', 'an entirely new passphrase')).statusCode).toBe(401);

    const entries = (await h.store.audit.list({ limit: 100 })).filter((e) => e.action.startsWith('user.'));
    expect(entries.map((e) => e.action)).toEqual([
      'user.create',
      'user.update',
      'user.update',
      'user.delete',
    ]);
    expect(JSON.parse(entries[2]!.after!)).toMatchObject({ passwordChanged: true, sessionsEnded: 1 });
    const everything = JSON.stringify(await h.store.audit.list({ limit: 100 }));
    expect(everything).not.toContain('an entirely new passphrase');
    expect(everything).not.toContain('argon2');
  });
});
