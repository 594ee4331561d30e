import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type ApiOptions, buildApi } from '../../src/api/index.js';
import type { Coordination } from '../../src/coord/cluster-contract.js';
import { LimitsUnavailableError, type RateLimits } from '../../src/coord/rate-limits.js';
import { NumberVault } from '../../src/security/number-vault.js';
import type { Store } from '../../src/store/contract.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import {
  type Harness as CoordHarness,
  type CoordinationKind,
  memoryKind,
  recordingLogger,
  redisKind,
  virtualClock,
} from '../coord/harness.js';
import { redisAvailable } from '../support/redis.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * The rate limit and the login throttle as the API applies them: one limit across api processes
 * sharing a backend (the cluster's `coord.limits`), and what a request gets when the backend
 * cannot answer — the rate limit fails open (admitted, warned), a login fails closed (503).
 */
const hasRedis = await redisAvailable();
const dir = makeTempDir();
afterAll(() => dir.remove());

const BOOTSTRAP_KEY = 'acme-key-0123456789';
const PASSWORD = 'correct horse battery staple';
let counter = 0;

interface Node {
  app: FastifyInstance;
  call(options: InjectOptions & { key?: string }): Promise<LightMyRequestResponse>;
  login(email: string, password?: string): Promise<LightMyRequestResponse>;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function openStore(): Store {
  const store = openSqliteStore(join(dir.path, `limits-${process.pid}-${counter++}.db`));
  closers.push(() => store.close());
  return store;
}

const vault = new NumberVault({
  activeKeyId: 'k1',
  encryptionKeys: new Map([['k1', randomBytes(32)]]),
  indexKey: randomBytes(32),
});

/** One api process: its own Fastify instance on the shared store, limits from `rateLimits`. */
async function apiNode(store: Store, clock: () => number, extra: Partial<ApiOptions>): Promise<Node> {
  const app = await buildApi({
    store,
    vault,
    apiKeys: [{ key: BOOTSTRAP_KEY, tenantId: 'acme' }],
    clock,
    logger: false,
    metricsRegistry: new Registry(),
    health: async () => ({ ok: true, details: {} }),
    notify: { tasksSubmitted() {}, campaignChanged() {}, resourcesChanged() {}, tenantChanged() {} },
    ...extra,
  });
  closers.push(() => app.close());
  const call: Node['call'] = ({ key = BOOTSTRAP_KEY, headers, ...rest }) =>
    app.inject({ ...rest, headers: { authorization: `Bearer ${key}`, ...headers } });
  return {
    app,
    call,
    login: (email, password = PASSWORD) =>
      app.inject({ method: 'POST', url: '/v1/session', payload: { email, password } }),
  };
}

async function createUser(node: Node, email: string): Promise<void> {
  const response = await node.call({
    method: 'POST',
    url: '/v1/users',
    payload: { email, password: PASSWORD, role: 'operator' },
  });
  expect(response.statusCode, response.body).toBe(201);
}

describe.each([memoryKind, redisKind])('limits shared by api processes: $name', (kind: CoordinationKind) => {
  describe.skipIf(kind.name === 'redis' && !hasRedis)(`${kind.name} backend`, () => {
    async function twoNodes(
      extra: Partial<ApiOptions>,
    ): Promise<{ a: Node; b: Node; time: ReturnType<typeof virtualClock> }> {
      const time = virtualClock();
      const harness: CoordHarness = await kind.open(time.clock, recordingLogger());
      closers.push(() => harness.dispose());
      const peer: Coordination = await harness.peer();
      const store = openStore();
      const a = await apiNode(store, time.clock, { ...extra, rateLimits: harness.coordination.limits });
      const b = await apiNode(store, time.clock, { ...extra, rateLimits: peer.limits });
      return { a, b, time };
    }

    it('takes one key’s requests from one bucket whichever node serves them', async () => {
      const { a, b, time } = await twoNodes({ limits: { rateLimit: { perSecond: 2, burst: 3 } } });
      const created = await a.call({
        method: 'POST',
        url: '/v1/api-keys',
        payload: { name: 'k', role: 'operator' },
      });
      const key = created.json().key as string;
      const get = (node: Node) => node.call({ method: 'GET', url: '/v1/campaigns', key });
      expect([(await get(a)).statusCode, (await get(b)).statusCode, (await get(a)).statusCode]).toEqual([
        200, 200, 200,
      ]);
      const refused = await get(b);
      expect(refused.statusCode).toBe(429);
      expect(refused.json().code).toBe('rate_limited');
      expect(refused.headers['retry-after']).toBe('1');
      expect((await get(a)).statusCode).toBe(429);
      time.advance(500);
      expect((await get(a)).statusCode).toBe(200);
      expect((await get(b)).statusCode).toBe(429);
    });

    it('counts failed logins on every node against the same account', async () => {
      const throttle = {
        windowMs: 15 * 60_000,
        accountThreshold: 3,
        addressThreshold: 100,
        baseDelayMs: 1_000,
        maxDelayMs: 60_000,
        maxEntries: 100,
      };
      const { a, b, time } = await twoNodes({ loginThrottle: throttle, limits: { rateLimit: false } });
      await createUser(a, 'target@acme.test');
      expect((await a.login('target@acme.test', 'guess-one')).statusCode).toBe(401);
      expect((await b.login('target@acme.test', 'guess-two')).statusCode).toBe(401);
      expect((await a.login('target@acme.test', 'guess-three')).statusCode).toBe(401); // locks 1 s
      const locked = await b.login('target@acme.test');
      expect(locked.statusCode).toBe(429);
      expect(locked.json().code).toBe('login_throttled');
      time.advance(1_000);
      expect((await b.login('target@acme.test')).statusCode).toBe(200);
      // The success on b cleared the account for a too.
      expect((await a.login('target@acme.test', 'guess-four')).statusCode).toBe(401);
      expect((await a.login('target@acme.test')).statusCode).toBe(200);
    });
  });
});

describe('when the limits cannot be read', () => {
  const down = (): never => {
    throw new LimitsUnavailableError('redis connection is reconnecting');
  };
  const unreachable: RateLimits = {
    tokenBuckets: () => ({ take: async () => down() }),
    loginThrottle: () => ({
      waitMs: async () => down(),
      failed: async () => down(),
      succeeded: async () => down(),
    }),
  };

  function capturingLogger() {
    const lines: Array<{ level: number; msg: string; admittedUnchecked?: number }> = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    return { logger, lines };
  }

  it('admits API requests unchecked (fails open) and warns at most every 10 s', async () => {
    const time = virtualClock();
    const { logger, lines } = capturingLogger();
    const node = await apiNode(openStore(), time.clock, { rateLimits: unreachable, logger });
    const created = await node.call({
      method: 'POST',
      url: '/v1/api-keys',
      payload: { name: 'k', role: 'operator' },
    });
    const key = created.json().key as string;
    for (let i = 0; i < 5; i++)
      expect((await node.call({ method: 'GET', url: '/v1/campaigns', key })).statusCode).toBe(200);
    time.advance(10_000);
    expect((await node.call({ method: 'GET', url: '/v1/campaigns', key })).statusCode).toBe(200);
    const warnings = lines.filter((line) => line.msg.startsWith('rate limit unavailable'));
    expect(warnings.map((line) => [line.level, line.admittedUnchecked])).toEqual([
      [40, 1],
      [40, 5],
    ]);
    // Every request admitted unchecked is counted where an operator alerts on it: the five reads
    // and the one after the pause (the bootstrap key that created the key is not rate limited).
    const metrics = await node.call({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^switchboard_api_rate_limit_unchecked_total 6$/m);
  });

  it('refuses logins with 503 (fails closed), whatever the password, and still audits the failure', async () => {
    const time = virtualClock();
    const store = openStore();
    const admin = await apiNode(store, time.clock, {});
    await createUser(admin, 'target@acme.test');
    const node = await apiNode(store, time.clock, { rateLimits: unreachable });
    for (const password of [PASSWORD, 'a wrong password']) {
      const refused = await node.login('target@acme.test', password);
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toMatchObject({
        code: 'login_unavailable',
        title: 'Logins cannot be checked right now; retry later',
      });
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.headers['set-cookie']).toBeUndefined();
    }

    // The check answered, then the backend went away: the wrong password and the right one get
    // the same 503, and the failure is in the audit log.
    const flaky: RateLimits = {
      tokenBuckets: unreachable.tokenBuckets,
      loginThrottle: () => ({
        waitMs: async () => 0,
        failed: async () => down(),
        succeeded: async () => down(),
      }),
    };
    const later = await apiNode(store, time.clock, { rateLimits: flaky });
    expect((await later.login('target@acme.test', 'a wrong password')).statusCode).toBe(503);
    expect((await later.login('target@acme.test')).statusCode).toBe(503);
    const actions = (await store.audit.list({ limit: 100 })).map((entry) => entry.action);
    expect(actions.filter((action) => action === 'session.login_failed')).toHaveLength(1);
    expect(actions).not.toContain('session.login');
  });
});
