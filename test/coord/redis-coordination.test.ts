import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Coordination } from '../../src/coord/cluster-contract.js';
import { CoordInvalidInputError, CoordTimeoutError } from '../../src/coord/coord-errors.js';
import {
  createRedisCoordination,
  type RedisCoordinationOptions,
} from '../../src/coord/redis-coordination.js';
import { RedisKeys } from '../../src/coord/redis-keys.js';
import { scripts } from '../../src/coord/redis-scripts.js';
import {
  deleteNamespace,
  freshNamespace,
  killNamespaceConnections,
  namespacePattern,
  redisAvailable,
  TEST_REDIS_URL,
} from '../support/redis.js';
import { Inbox, recordingLogger } from './harness.js';

const hasRedis = await redisAvailable();

describe.skipIf(!hasRedis)('coordination on Redis: what only Redis has', () => {
  const namespaces: string[] = [];
  const opened: Coordination[] = [];
  const logger = recordingLogger();
  let admin: Redis | null = null;

  async function open(
    namespace: string,
    options: Partial<RedisCoordinationOptions> = {},
  ): Promise<Coordination> {
    if (!namespaces.includes(namespace)) namespaces.push(namespace);
    const coordination = await createRedisCoordination({
      url: TEST_REDIS_URL,
      namespace,
      logger,
      ...options,
    });
    opened.push(coordination);
    return coordination;
  }

  function redis(): Redis {
    admin ??= new Redis(TEST_REDIS_URL, { protocol: 2 });
    return admin;
  }

  async function keysOf(namespace: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis().scan(cursor, 'MATCH', namespacePattern(namespace), 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys.sort();
  }

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((coordination) => coordination.close()));
    for (const namespace of namespaces.splice(0)) await deleteNamespace(namespace);
    admin?.disconnect();
    admin = null;
  });

  it('decides expiry by the server clock when no clock is given', async () => {
    const namespace = freshNamespace('rt');
    const a = await open(namespace);
    const b = await open(namespace);
    const first = (await a.leader.acquire('dispatch', 'a', 300, 0)) as number;
    expect(await b.leader.acquire('dispatch', 'b', 300, 0)).toBeNull();
    const [seconds, micros] = (await redis().time()).map(Number) as [number, number];
    const current = await b.leader.current('dispatch');
    // The expiry is in server time: within the ttl of the server's now.
    expect(current?.expiresAtMs).toBeGreaterThan(seconds * 1000 + Math.floor(micros / 1000));
    expect(current?.expiresAtMs).toBeLessThanOrEqual(seconds * 1000 + Math.floor(micros / 1000) + 300);
    await vi.waitFor(
      async () => {
        expect(await b.leader.acquire('dispatch', 'b', 10_000, 0)).toBe(first + 1);
      },
      { timeout: 5_000, interval: 50 },
    );
    expect(await a.leader.renew('dispatch', 'a', first, 300)).toBe(false);
    await b.members.heartbeat('scheduler', 'b', 10_000, { role: 'leader' });
    expect((await a.members.live('scheduler')).map((member) => member.memberId)).toEqual(['b']);
  });

  it('keeps every key under the namespace hash tag', async () => {
    const namespace = freshNamespace('keys');
    const coordination = await open(namespace);
    await coordination.leader.acquire('dispatch', 'a', 10_000, 0);
    await coordination.members.heartbeat('worker', 'w1', 10_000, {});
    await coordination.votes.vote('fs1', 'w1', true, 10_000);
    await coordination.bus.publish('orders:w1', [{ n: 1 }]);
    const keys = await keysOf(namespace);
    expect(keys).toEqual(
      [
        'bus-publishers:orders:w1',
        'bus:orders:w1',
        'fence:dispatch',
        'lease:dispatch',
        'member-info:worker',
        'members:worker',
        'votes',
      ].map((suffix) => `sb:{${namespace}}:${suffix}`),
    );
    // Everything that expires has a TTL, except the fence, which must outlive the lease.
    for (const key of keys) {
      const ttl = await redis().pttl(key);
      if (key.endsWith(':fence:dispatch')) expect(ttl).toBe(-1);
      else expect(ttl).toBeGreaterThan(0);
    }
  });

  it('refuses a namespace that could break the hash tag or the cleanup pattern', async () => {
    expect(() => new RedisKeys('a}b')).toThrow(CoordInvalidInputError);
    expect(() => new RedisKeys('a*')).toThrow(CoordInvalidInputError);
    expect(() => new RedisKeys('')).toThrow(CoordInvalidInputError);
    await expect(createRedisCoordination({ url: TEST_REDIS_URL, namespace: 'x{y' })).rejects.toBeInstanceOf(
      CoordInvalidInputError,
    );
  });

  it('goes on after its connections are killed (what a Redis restart looks like to a client)', async () => {
    const namespace = freshNamespace('kill');
    const worker = await open(namespace);
    const scheduler = await open(namespace);
    const inbox = new Inbox();
    worker.bus.subscribe('orders:w1', inbox.handler);
    scheduler.bus.serve('status', async () => 'leader here');
    await worker.bus.publish('orders:w1', [{ n: 1 }]);
    await inbox.waitForCount(1);
    await scheduler.bus.publish('orders:w1', [{ n: 2 }]);
    await inbox.waitForCount(2);

    // both main connections, the worker's reader and the scheduler's server
    expect(await killNamespaceConnections(namespace)).toBe(4);

    // Published while the reader reconnects: read from where it stopped, nothing lost, nothing twice.
    await scheduler.bus.publish('orders:w1', [{ n: 3 }, { n: 4 }]);
    await inbox.waitForCount(4);
    await scheduler.bus.publish('orders:w1', [{ n: 5 }]);
    await inbox.waitForCount(5);
    expect(inbox.messages).toEqual([1, 2, 3, 4, 5].map((n) => ({ n })));
    await expect(worker.bus.request('status', {}, 5_000)).resolves.toBe('leader here');
    expect(await worker.leader.acquire('dispatch', 'w', 10_000, 0)).toBe(1);
  });

  it('applies a resent publish call once (ioredis resends what a dropped connection left unanswered)', async () => {
    const keys = new RedisKeys(freshNamespace('resend'));
    namespaces.push(keys.namespace);
    const stream = [keys.stream('bus', 'orders'), keys.publishers('bus', 'orders')];
    const call = (callNumber: number, ...messages: string[]) =>
      scripts.busPublish.runInOrder(redis(), stream, ['publisher-1', callNumber, 1000, 60_000, ...messages]);
    expect(await call(1, '{"n":1}', '{"n":2}')).toBe(2);
    expect(await call(1, '{"n":1}', '{"n":2}')).toBe(0);
    expect(await call(2, '{"n":3}')).toBe(1);
    expect(await redis().xlen(stream[0] as string)).toBe(3);
  });

  it('reads a stream recreated with ids below the last one read (lost and rebuilt) from its start', async () => {
    const namespace = freshNamespace('rewind');
    const coordination = await open(namespace, { readBlockMs: 100 });
    const key = new RedisKeys(namespace).stream('bus', 'events');
    await redis().xadd(key, '9999999999999-0', 'm', '{"n":"future"}');
    const inbox = new Inbox();
    coordination.bus.subscribe('events', inbox.handler);
    await vi.waitFor(async () => expect(await redis().client('LIST')).toContain(`sb:${namespace}:reader`));
    await redis().del(key);
    await coordination.bus.publish('events', [{ n: 1 }]);
    await inbox.waitForCount(1);
    expect(inbox.messages).toEqual([{ n: 1 }]);
    expect(logger.warnings).toContain(
      'coord bus: the stream was recreated below the last id read; reading it from its start',
    );
  });

  it('caps a stream at about its maximum length', async () => {
    const namespace = freshNamespace('cap');
    const coordination = await open(namespace, { streamMaxLength: 100 });
    for (let i = 0; i < 20; i++)
      await coordination.bus.publish(
        'events',
        Array.from({ length: 100 }, (_, n) => ({ n })),
      );
    const length = await redis().xlen(new RedisKeys(namespace).stream('bus', 'events'));
    // MAXLEN ~ trims whole radix-tree nodes (100 entries each by default): at least the cap is kept.
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThan(300);
  });

  it('leaves no key behind once the namespace is deleted', async () => {
    const namespace = freshNamespace('gone');
    const coordination = await open(namespace);
    await coordination.leader.acquire('dispatch', 'a', 10_000, 0);
    await expect(coordination.bus.request('nobody', {}, 50)).rejects.toBeInstanceOf(CoordTimeoutError);
    expect((await keysOf(namespace)).length).toBeGreaterThan(0);
    await deleteNamespace(namespace);
    expect(await keysOf(namespace)).toEqual([]);
  });
});
