import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Coordination } from '../../src/coord/cluster-contract.js';
import {
  CoordClosedError,
  CoordInvalidInputError,
  CoordRemoteError,
  CoordTimeoutError,
} from '../../src/coord/coord-errors.js';
import { redisAvailable } from '../support/redis.js';
import {
  type CoordinationKind,
  gate,
  type Harness,
  Inbox,
  memoryKind,
  recordingLogger,
  redisKind,
  virtualClock,
} from './harness.js';

const hasRedis = await redisAvailable();

describe.each([memoryKind, redisKind])('coordination conformance: $name', (kind: CoordinationKind) => {
  describe.skipIf(kind.name === 'redis' && !hasRedis)(`${kind.name} backend`, () => {
    let time: ReturnType<typeof virtualClock>;
    let logger: ReturnType<typeof recordingLogger>;
    let harness: Harness;
    let coordination: Coordination;

    beforeEach(async () => {
      time = virtualClock();
      logger = recordingLogger();
      harness = await kind.open(time.clock, logger);
      coordination = harness.coordination;
    });

    afterEach(async () => {
      await harness.dispose();
    });

    describe('leader lease', () => {
      it('is exclusive: a second holder gets null while the first holds it', async () => {
        const { leader } = coordination;
        const token = await leader.acquire('dispatch', 'a', 10_000, 0);
        expect(token).toBe(1);
        expect(await leader.acquire('dispatch', 'b', 10_000, 0)).toBeNull();
        // Acquiring again as the holder renews under the same token.
        time.advance(5_000);
        expect(await leader.acquire('dispatch', 'a', 10_000, 0)).toBe(token);
        expect(await leader.current('dispatch')).toEqual({
          holderId: 'a',
          token,
          expiresAtMs: time.clock() + 10_000,
        });
        // Another process sees the same lease.
        const peer = await harness.peer();
        expect(await peer.leader.acquire('dispatch', 'b', 10_000, 0)).toBeNull();
        expect((await peer.leader.current('dispatch'))?.holderId).toBe('a');
      });

      it('keeps scopes apart', async () => {
        const { leader } = coordination;
        expect(await leader.acquire('one', 'a', 10_000, 0)).toBe(1);
        expect(await leader.acquire('two', 'b', 10_000, 0)).toBe(1);
        expect(await leader.current('three')).toBeNull();
      });

      it('renews only for the holder under its token', async () => {
        const { leader } = coordination;
        const token = (await leader.acquire('dispatch', 'a', 10_000, 0)) as number;
        expect(await leader.renew('dispatch', 'b', token, 10_000)).toBe(false);
        expect(await leader.renew('dispatch', 'a', token + 1, 10_000)).toBe(false);
        expect(await leader.renew('elsewhere', 'a', token, 10_000)).toBe(false);
        time.advance(8_000);
        expect(await leader.renew('dispatch', 'a', token, 10_000)).toBe(true);
        time.advance(8_000); // 16 s after acquiring: alive only thanks to the renewal
        expect(await leader.current('dispatch')).toMatchObject({ holderId: 'a', token });
      });

      it('hands over on expiry with a larger token; the old holder is deposed', async () => {
        const { leader } = coordination;
        const first = (await leader.acquire('dispatch', 'a', 10_000, 0)) as number;
        time.advance(9_999);
        expect(await leader.acquire('dispatch', 'b', 10_000, 0)).toBeNull();
        time.advance(1); // exactly ttl: expired
        expect(await leader.current('dispatch')).toBeNull();
        // An expired lease cannot be renewed, even though nobody took it yet.
        expect(await leader.renew('dispatch', 'a', first, 10_000)).toBe(false);
        const second = (await leader.acquire('dispatch', 'b', 10_000, 0)) as number;
        expect(second).toBeGreaterThan(first);
        expect(await leader.renew('dispatch', 'a', first, 10_000)).toBe(false);
        expect(await leader.acquire('dispatch', 'a', 10_000, 0)).toBeNull();
        // The deposed holder's release does not touch the new lease.
        await leader.release('dispatch', 'a', first);
        expect(await leader.current('dispatch')).toMatchObject({ holderId: 'b', token: second });
      });

      it('gives a new token to a holder that comes back after its lease expired', async () => {
        const { leader } = coordination;
        const first = (await leader.acquire('dispatch', 'a', 1_000, 0)) as number;
        time.advance(1_000);
        expect(await leader.acquire('dispatch', 'a', 1_000, 0)).toBe(first + 1);
      });

      it('release hands over at once, and only under the holder and token', async () => {
        const { leader } = coordination;
        const first = (await leader.acquire('dispatch', 'a', 10_000, 0)) as number;
        await leader.release('dispatch', 'b', first);
        await leader.release('dispatch', 'a', first + 1);
        expect(await leader.current('dispatch')).toMatchObject({ holderId: 'a' });
        await leader.release('dispatch', 'a', first);
        expect(await leader.current('dispatch')).toBeNull();
        expect(await leader.acquire('dispatch', 'b', 10_000, 0)).toBe(first + 1);
      });

      it('never hands out a token at or below the floor, even after the backend lost its data', async () => {
        const { leader } = coordination;
        expect(await leader.acquire('dispatch', 'a', 10_000, 0)).toBe(1);
        expect(await leader.acquire('other', 'a', 10_000, 0)).toBe(1);
        const after = await harness.lose();
        expect(await after.leader.current('dispatch')).toBeNull();
        // The store saw token 41 (a previous era); the emptied backend must not reuse 1..41.
        expect(await after.leader.acquire('dispatch', 'b', 10_000, 41)).toBe(42);
        await after.leader.release('dispatch', 'b', 42);
        // A floor below the backend's own fence does not lower it.
        expect(await after.leader.acquire('dispatch', 'a', 10_000, 5)).toBe(43);
      });

      it('refuses unusable arguments', async () => {
        const { leader } = coordination;
        await expect(leader.acquire('dispatch', 'a', 0, 0)).rejects.toBeInstanceOf(CoordInvalidInputError);
        await expect(leader.acquire('dispatch', '', 1_000, 0)).rejects.toBeInstanceOf(CoordInvalidInputError);
        await expect(leader.acquire('dispatch', 'a', 1_000, -1)).rejects.toBeInstanceOf(
          CoordInvalidInputError,
        );
      });
    });

    describe('membership', () => {
      it('lists members until their heartbeat expires, with their info', async () => {
        const { members } = coordination;
        await members.heartbeat('worker', 'w2', 10_000, { host: 'b', switches: '3' });
        await members.heartbeat('worker', 'w1', 5_000, { host: 'a' });
        await members.heartbeat('scheduler', 's1', 5_000, {});
        const start = time.clock();
        expect(await members.live('worker')).toEqual([
          { memberId: 'w1', info: { host: 'a' }, expiresAtMs: start + 5_000 },
          { memberId: 'w2', info: { host: 'b', switches: '3' }, expiresAtMs: start + 10_000 },
        ]);
        time.advance(4_999);
        expect((await members.live('worker')).map((m) => m.memberId)).toEqual(['w1', 'w2']);
        time.advance(1);
        expect((await members.live('worker')).map((m) => m.memberId)).toEqual(['w2']);
        expect(await members.live('scheduler')).toEqual([]);
        // A heartbeat brings an expired member back, with its new info.
        await members.heartbeat('worker', 'w1', 5_000, { host: 'a2' });
        expect(await members.live('worker')).toMatchObject([
          { memberId: 'w1', info: { host: 'a2' } },
          { memberId: 'w2' },
        ]);
        expect(await members.live('api')).toEqual([]);
      });

      it('forgets a member that leaves, at once', async () => {
        const { members } = coordination;
        await members.heartbeat('worker', 'w1', 5_000, {});
        await members.heartbeat('worker', 'w2', 5_000, {});
        await members.leave('worker', 'w1');
        await members.leave('worker', 'never-was');
        const peer = await harness.peer();
        expect((await peer.members.live('worker')).map((m) => m.memberId)).toEqual(['w2']);
      });
    });

    describe('switch votes', () => {
      it('groups unexpired votes by switch, counting only the given live workers', async () => {
        const { votes } = coordination;
        await votes.vote('fs1', 'w1', false, 5_000);
        await votes.vote('fs1', 'w2', false, 5_000);
        await votes.vote('fs1', 'w3', true, 5_000);
        await votes.vote('fs2', 'w1', true, 5_000);
        expect(await votes.votes(['w1', 'w2', 'w3'])).toEqual(
          new Map([
            ['fs1', { up: ['w3'], down: ['w1', 'w2'] }],
            ['fs2', { up: ['w1'], down: [] }],
          ]),
        );
        // w1 and w2 are no longer live: their votes do not count, and fs2 has none left.
        expect(await votes.votes(['w3'])).toEqual(new Map([['fs1', { up: ['w3'], down: [] }]]));
        expect(await votes.votes([])).toEqual(new Map());
      });

      it('keeps one vote per worker and switch: the latest', async () => {
        const { votes } = coordination;
        await votes.vote('fs1', 'w1', false, 5_000);
        await votes.vote('fs1', 'w1', true, 5_000);
        expect(await votes.votes(['w1'])).toEqual(new Map([['fs1', { up: ['w1'], down: [] }]]));
      });

      it('lets votes expire', async () => {
        const { votes } = coordination;
        await votes.vote('fs1', 'w1', false, 1_000);
        await votes.vote('fs1', 'w2', false, 5_000);
        time.advance(1_000);
        expect(await votes.votes(['w1', 'w2'])).toEqual(new Map([['fs1', { up: [], down: ['w2'] }]]));
        time.advance(4_000);
        expect(await votes.votes(['w1', 'w2'])).toEqual(new Map());
      });

      it('keeps ids with any characters apart', async () => {
        const { votes } = coordination;
        await votes.vote('fs:1', 'w"1', false, 5_000);
        await votes.vote('fs', ':1w"1', true, 5_000);
        expect(await votes.votes(['w"1', ':1w"1'])).toEqual(
          new Map([
            ['fs:1', { up: [], down: ['w"1'] }],
            ['fs', { up: [':1w"1'], down: [] }],
          ]),
        );
      });
    });

    describe('message bus', () => {
      it('delivers, in order, only what is published after subscribing', async () => {
        const { bus } = coordination;
        await bus.publish('orders:w1', [{ n: 'history' }]);
        const inbox = new Inbox();
        const subscription = bus.subscribe('orders:w1', inbox.handler);
        const published = bus.publish('orders:w1', [{ n: 1 }, { n: 2 }, { n: 3 }]);
        // Never delivered inside publish: the publisher is not re-entered.
        expect(inbox.batches).toEqual([]);
        await published;
        await bus.publish('orders:w1', [{ n: 4 }]);
        await bus.publish('orders:w2', [{ n: 'elsewhere' }]);
        await bus.publish('orders:w1', [{ n: 5 }, { n: 6 }]);
        await inbox.waitForCount(6);
        expect(inbox.messages).toEqual([1, 2, 3, 4, 5, 6].map((n) => ({ n })));
        await subscription.close();
      });

      it('delivers what other processes publish', async () => {
        const peer = await harness.peer();
        const inbox = new Inbox();
        coordination.bus.subscribe('events', inbox.handler);
        // Wait until the subscription has taken its start point (across processes there is no order).
        await coordination.bus.publish('events', [{ n: 0 }]);
        await inbox.waitForCount(1);
        await peer.bus.publish('events', [{ n: 1 }, { n: 2 }]);
        await inbox.waitForCount(3);
        expect(inbox.messages).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
      });

      it('batches: what accumulates while the handler works comes as one batch of many', async () => {
        const { bus } = coordination;
        const held = gate();
        const batches: number[][] = [];
        bus.subscribe('events', async (messages) => {
          batches.push(messages.map((message) => (message as { n: number }).n));
          if (batches.length === 1) await held.wait;
        });
        await bus.publish('events', [{ n: 0 }]);
        await vi_waitForBatches(batches, 1);
        const many = Array.from({ length: 2_000 }, (_, i) => ({ n: i + 1 }));
        await bus.publish('events', many.slice(0, 1_200));
        await bus.publish('events', many.slice(1_200));
        held.release();
        await vi_waitForCount(batches, 2_001);
        expect(batches.flat()).toEqual(Array.from({ length: 2_001 }, (_, i) => i));
        // The 2,000 waiting messages came in big batches (≥ 500 per read), not one by one.
        expect(batches.length).toBeLessThanOrEqual(4);
        expect(Math.max(...batches.slice(1).map((batch) => batch.length))).toBeGreaterThanOrEqual(500);
      });

      it('delivers at most once: a batch whose handler throws is logged, not redelivered', async () => {
        const { bus } = coordination;
        const seen: unknown[] = [];
        let calls = 0;
        bus.subscribe('events', async (messages) => {
          calls += 1;
          seen.push(...messages);
          if (calls === 1) throw new Error('handler broke');
        });
        await bus.publish('events', [{ n: 1 }, { n: 2 }]);
        await vi_waitForCount(seen, 2);
        await bus.publish('events', [{ n: 3 }]);
        await vi_waitForCount(seen, 3);
        expect(seen).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
        expect(logger.errors).toHaveLength(1);
      });

      it('delivers everything to every subscriber', async () => {
        const peer = await harness.peer();
        const here = Array.from({ length: 3 }, () => new Inbox());
        const there = Array.from({ length: 3 }, () => new Inbox());
        for (const inbox of here) coordination.bus.subscribe('notices', inbox.handler);
        for (const inbox of there) peer.bus.subscribe('notices', inbox.handler);
        // The peer's subscriptions take their start on the peer's connection: let them settle first.
        await peer.bus.publish('notices', [{ n: 0 }]);
        await Promise.all(there.map((inbox) => inbox.waitForCount(1)));
        const sent = Array.from({ length: 300 }, (_, i) => ({ n: i + 1 }));
        for (let i = 0; i < sent.length; i += 100)
          await coordination.bus.publish('notices', sent.slice(i, i + 100));
        for (const inbox of there) {
          await inbox.waitForCount(301);
          expect(inbox.messages).toEqual([{ n: 0 }, ...sent]);
        }
        for (const inbox of here) {
          // Whether the peer's { n: 0 } reached these depends on timing across connections.
          await vi.waitFor(() => expect(inbox.messages.at(-1)).toEqual({ n: 300 }), { timeout: 10_000 });
          expect(inbox.messages.filter((message) => (message as { n: number }).n > 0)).toEqual(sent);
        }
      });

      it('stops delivering to a closed subscription', async () => {
        const { bus } = coordination;
        const closed = new Inbox();
        const open = new Inbox();
        const subscription = bus.subscribe('events', closed.handler);
        bus.subscribe('events', open.handler);
        await bus.publish('events', [{ n: 1 }]);
        await closed.waitForCount(1);
        await subscription.close();
        await bus.publish('events', [{ n: 2 }]);
        await open.waitForCount(2);
        expect(closed.messages).toEqual([{ n: 1 }]);
      });

      it('refuses what JSON cannot carry, and works no more once closed', async () => {
        const { bus } = coordination;
        await expect(bus.publish('events', [{ n: 1n }])).rejects.toBeInstanceOf(CoordInvalidInputError);
        await expect(bus.publish('events', [undefined])).rejects.toBeInstanceOf(CoordInvalidInputError);
        await bus.publish('events', []);
        await bus.close();
        await expect(bus.publish('events', [{ n: 1 }])).rejects.toBeInstanceOf(CoordClosedError);
        expect(() => bus.subscribe('events', () => {})).toThrow(CoordClosedError);
      });

      it('answers a request from another process', async () => {
        const server = await harness.peer();
        server.bus.serve('status', async (message) => ({ echo: message, from: 'leader' }));
        await expect(retryUntilServed(coordination, { campaignId: 'c1' })).resolves.toEqual({
          echo: { campaignId: 'c1' },
          from: 'leader',
        });
        // Many in flight at once, each answered with its own reply.
        const replies = await Promise.all(
          Array.from({ length: 20 }, (_, i) => coordination.bus.request('status', { i }, 5_000)),
        );
        expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => ({ echo: { i }, from: 'leader' })));
      });

      it("rejects with the server's error when its handler throws", async () => {
        const server = await harness.peer();
        server.bus.serve('status', async (message) => {
          if ((message as { campaignId: string }).campaignId === 'ready') return 'ok';
          throw new RangeError('no such campaign');
        });
        await retryUntilServed(coordination, { campaignId: 'ready' });
        const failure = coordination.bus.request('status', { campaignId: 'c9' }, 5_000);
        await expect(failure).rejects.toBeInstanceOf(CoordRemoteError);
        await expect(failure).rejects.toMatchObject({
          remoteName: 'RangeError',
          message: 'no such campaign',
        });
      });

      it('times out when nobody answers, and ignores a late reply', async () => {
        const server = await harness.peer();
        const slow = gate();
        server.bus.serve('slow', async (message) => {
          if ((message as { wait: boolean }).wait) await slow.wait;
          return 'done';
        });
        await expect(coordination.bus.request('nobody-serves', {}, 100)).rejects.toBeInstanceOf(
          CoordTimeoutError,
        );
        await retryUntilServed(coordination, { wait: false }, 'slow');
        await expect(coordination.bus.request('slow', { wait: true }, 100)).rejects.toBeInstanceOf(
          CoordTimeoutError,
        );
        slow.release();
        // The late reply arrives and is dropped; the next request still gets its own.
        await expect(coordination.bus.request('slow', { wait: false }, 5_000)).resolves.toBe('done');
      });

      it('rejects pending requests when the bus closes', async () => {
        const pending = expect(coordination.bus.request('nobody-serves', {}, 60_000)).rejects.toBeInstanceOf(
          CoordClosedError,
        );
        await coordination.bus.close();
        await pending;
      });
    });
  });
});

/** A server's subscription starts asynchronously: ask until it answers. */
async function retryUntilServed(
  coordination: Coordination,
  message: unknown,
  stream = 'status',
): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await coordination.bus.request(stream, message, 200);
    } catch (error) {
      if (!(error instanceof CoordTimeoutError) || attempt >= 25) throw error;
    }
  }
}

async function vi_waitForBatches(batches: unknown[][], count: number): Promise<void> {
  await vi.waitFor(
    () => {
      if (batches.length < count) throw new Error(`${batches.length} of ${count} batches`);
    },
    { timeout: 10_000, interval: 5 },
  );
}

async function vi_waitForCount(items: unknown[], count: number): Promise<void> {
  await vi.waitFor(
    () => {
      if (items.flat().length < count) throw new Error(`${items.flat().length} of ${count}`);
    },
    { timeout: 10_000, interval: 5 },
  );
}
