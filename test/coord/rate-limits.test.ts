import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Coordination } from '../../src/coord/cluster-contract.js';
import { CoordInvalidInputError } from '../../src/coord/coord-errors.js';
import type { LoginThrottlePolicy, TokenBucketPolicy } from '../../src/coord/rate-limits.js';
import { redisAvailable } from '../support/redis.js';
import {
  type CoordinationKind,
  type Harness,
  memoryKind,
  recordingLogger,
  redisKind,
  virtualClock,
} from './harness.js';

/**
 * The API rate limit and the login throttle (src/coord/rate-limits.ts) on every backend, on a
 * virtual clock: the same exact answers in memory and on Redis, and one limit shared by every
 * process on the backend (`peer()`: another api process).
 */
const hasRedis = await redisAvailable();

/** 4 tokens a second: one every 250 ms, and fractions that binary floating point holds exactly. */
const BUCKET: TokenBucketPolicy = { perSecond: 4, burst: 5 };

const THROTTLE: LoginThrottlePolicy = {
  windowMs: 60_000,
  accountThreshold: 3,
  addressThreshold: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 8_000,
  maxEntries: 100,
};

describe.each([memoryKind, redisKind])('rate limits conformance: $name', (kind: CoordinationKind) => {
  describe.skipIf(kind.name === 'redis' && !hasRedis)(`${kind.name} backend`, () => {
    let time: ReturnType<typeof virtualClock>;
    let harness: Harness;
    let coordination: Coordination;

    beforeEach(async () => {
      time = virtualClock();
      harness = await kind.open(time.clock, recordingLogger());
      coordination = harness.coordination;
    });

    afterEach(async () => {
      await harness.dispose();
    });

    async function takeAll(take: () => Promise<number>, count: number): Promise<number[]> {
      const waits: number[] = [];
      for (let i = 0; i < count; i++) waits.push(await take());
      return waits;
    }

    describe('token buckets', () => {
      it('admits the burst, refuses the next with the time to the next token, and refills by fractions', async () => {
        const buckets = coordination.limits.tokenBuckets(BUCKET);
        const take = () => buckets.take('key:a');
        expect(await takeAll(take, 6)).toEqual([0, 0, 0, 0, 0, 250]);
        time.advance(125); // half a token
        expect(await take()).toBe(125);
        time.advance(124);
        // 1 ms short of a token: refused, the wait rounded up (never an early retry).
        const waitMs = await take();
        expect(waitMs).toBeGreaterThanOrEqual(1);
        expect(waitMs).toBeLessThanOrEqual(2);
        time.advance(1);
        expect(await take()).toBe(0);
        expect(await take()).toBe(250);
      });

      it('refills up to the burst only, however long the quiet period', async () => {
        const buckets = coordination.limits.tokenBuckets(BUCKET);
        const take = () => buckets.take('key:a');
        await takeAll(take, 5);
        time.advance(3_600_000);
        expect(await takeAll(take, 6)).toEqual([0, 0, 0, 0, 0, 250]);
        // A steady caller at the sustained rate is never refused.
        for (let i = 0; i < 20; i++) {
          time.advance(250);
          expect(await take()).toBe(0);
        }
      });

      it('keeps a bucket per caller', async () => {
        const buckets = coordination.limits.tokenBuckets(BUCKET);
        expect(await takeAll(() => buckets.take('key:a'), 6)).toEqual([0, 0, 0, 0, 0, 250]);
        expect(await buckets.take('key:b')).toBe(0);
        expect(await buckets.take('user:a')).toBe(0);
      });

      it('shares one bucket between processes: the burst is the whole cluster’s', async () => {
        const peer = await harness.peer();
        const here = coordination.limits.tokenBuckets(BUCKET);
        const there = peer.limits.tokenBuckets(BUCKET);
        expect(await takeAll(() => here.take('key:a'), 3)).toEqual([0, 0, 0]);
        expect(await takeAll(() => there.take('key:a'), 2)).toEqual([0, 0]);
        expect(await there.take('key:a')).toBe(250);
        expect(await here.take('key:a')).toBe(250);
        time.advance(250);
        expect(await there.take('key:a')).toBe(0);
        expect(await here.take('key:a')).toBe(250);
      });

      it('refuses a policy or a caller it cannot use', async () => {
        expect(() => coordination.limits.tokenBuckets({ perSecond: 0, burst: 5 })).toThrow(
          CoordInvalidInputError,
        );
        expect(() => coordination.limits.tokenBuckets({ perSecond: 1, burst: 0.5 })).toThrow(
          CoordInvalidInputError,
        );
        await expect(coordination.limits.tokenBuckets(BUCKET).take('')).rejects.toBeInstanceOf(
          CoordInvalidInputError,
        );
      });
    });

    describe('login throttle', () => {
      const target = { account: 'target@acme.test', address: '192.0.2.1' };

      it('locks an account from its threshold on, doubling each failure up to the cap', async () => {
        const throttle = coordination.limits.loginThrottle({ ...THROTTLE, addressThreshold: 100 });
        expect(await throttle.failed(target)).toEqual([]);
        expect(await throttle.failed(target)).toEqual([]);
        expect(await throttle.waitMs(target)).toBe(0);
        expect(await throttle.failed(target)).toEqual(['account']); // third: 1 s
        expect(await throttle.waitMs(target)).toBe(1_000);
        time.advance(400);
        expect(await throttle.waitMs(target)).toBe(600);
        // The lock holds for the account from any address.
        expect(await throttle.waitMs({ ...target, address: '198.51.100.7' })).toBe(600);
        time.advance(600);
        expect(await throttle.waitMs(target)).toBe(0);
        const delays: number[] = [];
        for (let i = 0; i < 5; i++) {
          expect(await throttle.failed(target)).toEqual(['account']);
          const waitMs = await throttle.waitMs(target);
          delays.push(waitMs);
          time.advance(waitMs);
        }
        expect(delays).toEqual([2_000, 4_000, 8_000, 8_000, 8_000]);
      });

      it('counts an address across accounts, and locks both keys when both reach their thresholds', async () => {
        const throttle = coordination.limits.loginThrottle(THROTTLE);
        const from = (account: string) => ({ account, address: '192.0.2.1' });
        for (const account of ['a@x', 'b@x', 'c@x', 'd@x'])
          expect(await throttle.failed(from(account))).toEqual([]);
        expect(await throttle.failed(from('e@x'))).toEqual(['address']); // fifth from the address: 1 s
        expect(await throttle.waitMs(from('f@x'))).toBe(1_000);
        expect(await throttle.waitMs({ account: 'f@x', address: '192.0.2.2' })).toBe(0);
        time.advance(1_000);
        expect(await throttle.failed(from('a@x'))).toEqual(['address']); // sixth: 2 s
        expect(await throttle.failed(from('a@x'))).toEqual(['account', 'address']); // a@x: third; address: 4 s
        expect(await throttle.waitMs(from('a@x'))).toBe(4_000);
        expect(await throttle.waitMs({ account: 'a@x', address: '192.0.2.2' })).toBe(1_000);
      });

      it('clears the account on success, never the address', async () => {
        const throttle = coordination.limits.loginThrottle(THROTTLE);
        for (let i = 0; i < 2; i++) await throttle.failed(target);
        await throttle.failed({ ...target, account: 'other@acme.test' });
        await throttle.failed({ ...target, account: 'other@acme.test' });
        await throttle.succeeded(target);
        // The account starts over: two more failures lock nothing ...
        expect(await throttle.failed(target)).toEqual(['address']); // ... but the address is at its fifth.
        expect(await throttle.waitMs({ ...target, address: '192.0.2.2' })).toBe(0);
        expect(await throttle.waitMs({ account: 'third@acme.test', address: target.address })).toBe(1_000);
        time.advance(1_000);
        expect(await throttle.failed({ ...target, address: '192.0.2.2' })).toEqual([]);
        // Succeeding for an account never seen is harmless.
        await throttle.succeeded({ account: 'nobody@acme.test', address: '192.0.2.9' });
      });

      it('forgets a count once its window has passed, not before, and never while locked', async () => {
        const throttle = coordination.limits.loginThrottle(THROTTLE);
        await throttle.failed(target);
        await throttle.failed(target);
        time.advance(59_999); // the window runs from the first failure
        expect(await throttle.failed(target)).toEqual(['account']);
        time.advance(1); // window passed, but locked for 999 ms more
        expect(await throttle.waitMs(target)).toBe(999);
        // A failure while locked (a login that raced the lock) still counts: the lock doubles.
        expect(await throttle.failed(target)).toEqual(['account']);
        expect(await throttle.waitMs(target)).toBe(2_000);
        time.advance(2_000);
        expect(await throttle.failed(target)).toEqual([]); // forgotten: this is the first again
        await throttle.failed(target);
        expect(await throttle.failed(target)).toEqual(['account']);
        expect(await throttle.waitMs(target)).toBe(1_000);
      });

      it('shares the counts between processes', async () => {
        const peer = await harness.peer();
        const here = coordination.limits.loginThrottle(THROTTLE);
        const there = peer.limits.loginThrottle(THROTTLE);
        await here.failed(target);
        await there.failed(target);
        expect(await here.failed(target)).toEqual(['account']);
        expect(await there.waitMs(target)).toBe(1_000);
        await there.succeeded(target);
        expect(await here.waitMs(target)).toBe(0);
      });

      it('refuses a policy it cannot use', () => {
        expect(() => coordination.limits.loginThrottle({ ...THROTTLE, windowMs: 0 })).toThrow(
          CoordInvalidInputError,
        );
        expect(() => coordination.limits.loginThrottle({ ...THROTTLE, accountThreshold: 1.5 })).toThrow(
          CoordInvalidInputError,
        );
      });
    });
  });
});
