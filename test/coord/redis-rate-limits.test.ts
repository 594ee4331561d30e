import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Coordination } from '../../src/coord/cluster-contract.js';
import { LimitsUnavailableError } from '../../src/coord/rate-limits.js';
import { createRedisContext } from '../../src/coord/redis-context.js';
import { createRedisCoordination } from '../../src/coord/redis-coordination.js';
import { RedisKeys } from '../../src/coord/redis-keys.js';
import { RedisRateLimits } from '../../src/coord/redis-rate-limits.js';
import {
  deleteNamespace,
  freshNamespace,
  namespacePattern,
  redisAvailable,
  TEST_REDIS_URL,
} from '../support/redis.js';
import { recordingLogger } from './harness.js';

/** What only the Redis limits have: key names and TTLs, the server's clock, an unreachable server. */
const hasRedis = await redisAvailable();

const BUCKET = { perSecond: 4, burst: 5 };
const THROTTLE = {
  windowMs: 60_000,
  accountThreshold: 3,
  addressThreshold: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 8_000,
  maxEntries: 100,
};
/** RedisContext.graceMs: how long a key outlives its logical end. */
const GRACE_MS = 60_000;

describe.skipIf(!hasRedis)('rate limits on Redis: what only Redis has', () => {
  const namespaces: string[] = [];
  const opened: Coordination[] = [];
  let admin: Redis | null = null;

  async function open(namespace: string, clock?: () => number): Promise<Coordination> {
    namespaces.push(namespace);
    const coordination = await createRedisCoordination({
      url: TEST_REDIS_URL,
      namespace,
      logger: recordingLogger(),
      ...(clock ? { clock } : {}),
    });
    opened.push(coordination);
    return coordination;
  }

  function redis(): Redis {
    admin ??= new Redis(TEST_REDIS_URL, { protocol: 2 });
    return admin;
  }

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((coordination) => coordination.close()));
    for (const namespace of namespaces.splice(0)) await deleteNamespace(namespace);
    admin?.disconnect();
    admin = null;
  });

  it('keeps its keys under the namespace hash tag, names hashed, each with a TTL bounded by its use', async () => {
    const namespace = freshNamespace('limits');
    let nowMs = 1_700_000_000_000;
    const coordination = await open(namespace, () => nowMs);
    const buckets = coordination.limits.tokenBuckets(BUCKET);
    const throttle = coordination.limits.loginThrottle(THROTTLE);
    await buckets.take('key:k1');
    for (let i = 0; i < 3; i++) await throttle.failed({ account: 'target@acme.test', address: '192.0.2.1' });
    nowMs += 1;

    const [, keys] = await redis().scan('0', 'MATCH', namespacePattern(namespace), 'COUNT', 1000);
    const prefix = `sb:{${namespace}}:`;
    expect(keys.map((key) => key.slice(prefix.length).replace(/:.*/, '')).sort()).toEqual([
      'login-account',
      'login-address',
      'rate',
    ]);
    expect(keys.join(' ')).not.toContain('target@acme.test');
    expect(keys.join(' ')).not.toContain('192.0.2.1');
    const ttl = async (kind: string) =>
      redis().pttl(keys.find((key) => key.startsWith(`${prefix}${kind}:`)) as string);
    // A bucket goes once it would be full again (one token: 250 ms), plus grace.
    expect(await ttl('rate')).toBeGreaterThan(0);
    expect(await ttl('rate')).toBeLessThanOrEqual(250 + GRACE_MS);
    // A count goes once its window and its lock have passed, plus grace.
    expect(await ttl('login-account')).toBeGreaterThan(GRACE_MS);
    expect(await ttl('login-account')).toBeLessThanOrEqual(THROTTLE.windowMs + GRACE_MS);
    expect(await ttl('login-address')).toBeLessThanOrEqual(THROTTLE.windowMs + GRACE_MS);
    // A success deletes the account's key only.
    await throttle.succeeded({ account: 'target@acme.test', address: '192.0.2.1' });
    const [, left] = await redis().scan('0', 'MATCH', namespacePattern(namespace), 'COUNT', 1000);
    expect(left.map((key) => key.slice(prefix.length).replace(/:.*/, '')).sort()).toEqual([
      'login-address',
      'rate',
    ]);
  });

  it('decides by the server clock when no clock is given', async () => {
    const namespace = freshNamespace('limits-time');
    const buckets = (await open(namespace)).limits.tokenBuckets(BUCKET);
    for (let i = 0; i < BUCKET.burst; i++) expect(await buckets.take('key:k1')).toBe(0);
    const waitMs = await buckets.take('key:k1');
    // Some server time passed since the burst began: a token is at most 250 ms away.
    expect(waitMs).toBeGreaterThan(0);
    expect(waitMs).toBeLessThanOrEqual(250);
    const throttle = (await open(namespace)).limits.loginThrottle(THROTTLE);
    const keys = { account: 'a@x', address: '192.0.2.1' };
    for (let i = 0; i < THROTTLE.accountThreshold; i++) await throttle.failed(keys);
    const lockMs = await throttle.waitMs(keys);
    expect(lockMs).toBeGreaterThan(0);
    expect(lockMs).toBeLessThanOrEqual(THROTTLE.baseDelayMs);
  });

  it('rejects at once, as unavailable, while its connection is down', async () => {
    const offline = new Redis('redis://127.0.0.1:1', {
      protocol: 2,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    offline.on('error', () => {
      // This test's connection is meant to fail; the rejection below is what it checks.
    });
    try {
      const limits = new RedisRateLimits(createRedisContext(offline, new RedisKeys('offline'), undefined));
      const started = performance.now();
      await expect(limits.tokenBuckets(BUCKET).take('key:k1')).rejects.toBeInstanceOf(LimitsUnavailableError);
      const throttle = limits.loginThrottle(THROTTLE);
      const keys = { account: 'a@x', address: '192.0.2.1' };
      await expect(throttle.waitMs(keys)).rejects.toBeInstanceOf(LimitsUnavailableError);
      await expect(throttle.failed(keys)).rejects.toBeInstanceOf(LimitsUnavailableError);
      await expect(throttle.succeeded(keys)).rejects.toBeInstanceOf(LimitsUnavailableError);
      expect(performance.now() - started).toBeLessThan(500);
    } finally {
      offline.disconnect();
    }
  });

  it('rejects as unavailable when a connected server does not answer within the deadline', async () => {
    // A blocking read on the same connection holds every later call: what a stalled server looks like.
    const namespace = freshNamespace('limits-stall');
    namespaces.push(namespace);
    const keys = new RedisKeys(namespace);
    const stalled = new Redis(TEST_REDIS_URL, { protocol: 2 });
    try {
      await stalled.ping();
      const held = stalled.blpop(`${keys.prefix}stall`, 1);
      const limits = new RedisRateLimits(createRedisContext(stalled, keys, undefined), 100);
      const started = performance.now();
      await expect(limits.tokenBuckets(BUCKET).take('key:k1')).rejects.toThrow(/no reply within 100 ms/);
      await expect(
        limits.loginThrottle(THROTTLE).waitMs({ account: 'a@x', address: 'b' }),
      ).rejects.toBeInstanceOf(LimitsUnavailableError);
      expect(performance.now() - started).toBeLessThan(900);
      await held;
    } finally {
      stalled.disconnect();
    }
  });
});
