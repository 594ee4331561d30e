import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerGrant, SlotLedger } from '../../src/coord/cluster-contract.js';
import { CoordInvalidInputError } from '../../src/coord/coord-errors.js';
import { redisAvailable } from '../support/redis.js';
import {
  type CoordinationKind,
  type Harness,
  memoryKind,
  recordingLogger,
  redisKind,
  virtualClock,
} from './harness.js';

const hasRedis = await redisAvailable();
const T = 1_763_800_000_000;
const WINDOW = 1_010;

/** One call on a line of a switch, paced on the line, granted at `atMs` (its latest send time). */
function grant(leaseId: string, atMs: number, tat = atMs + 500): LedgerGrant {
  return {
    leaseId,
    keys: ['line:l1', 'switch:s1'],
    expiresAtMs: T + 3_600_000,
    paced: [{ key: 'line:l1', atMs, tat }],
  };
}

describe.each([memoryKind, redisKind])('slot ledger conformance: $name', (kind: CoordinationKind) => {
  describe.skipIf(kind.name === 'redis' && !hasRedis)(`${kind.name} backend`, () => {
    let harness: Harness;
    let ledger: SlotLedger;

    beforeEach(async () => {
      harness = await kind.open(virtualClock().clock, recordingLogger());
      ledger = harness.coordination.ledger;
    });

    afterEach(async () => {
      await harness.dispose();
    });

    it('does not exist until a leader takes it: writes say lost, the first take finds it incomplete', async () => {
      expect(await ledger.write(1, { grants: [grant('a', T)], released: [] }, T)).toBe('lost');
      expect(await ledger.take(1, T, WINDOW)).toEqual({
        complete: false,
        previousFence: null,
        pace: new Map(),
        leases: new Map(),
      });
      expect(await ledger.write(1, { grants: [grant('a', T)], released: [] }, T)).toBe('ok');
      expect(await ledger.inFlight(['line:l1', 'switch:s1', 'line:l2'])).toEqual(
        new Map([
          ['line:l1', 1],
          ['switch:s1', 1],
          ['line:l2', 0],
        ]),
      );
    });

    it('fences: after a newer leader took it, the older one can neither write, replace nor take it', async () => {
      await ledger.take(1, T, WINDOW);
      await ledger.write(1, { grants: [grant('a', T)], released: [] }, T);
      const peer = (await harness.peer()).ledger;
      const taken = await peer.take(2, T + 10, WINDOW);
      expect(taken?.previousFence).toBe(1);
      expect([...(taken?.leases.keys() ?? [])]).toEqual(['a']);
      expect(await ledger.write(1, { grants: [grant('b', T + 20)], released: ['a'] }, T + 20)).toBe('fenced');
      expect(await ledger.replace(1, { pace: new Map(), leases: new Map() }, true)).toBe('fenced');
      expect(await ledger.take(1, T + 20, WINDOW)).toBeNull();
      // Nothing of the refused calls landed.
      expect(await peer.inFlight(['line:l1'])).toEqual(new Map([['line:l1', 1]]));
      expect(await peer.write(2, { grants: [], released: ['a'] }, T + 30)).toBe('ok');
      expect(await peer.inFlight(['line:l1'])).toEqual(new Map([['line:l1', 0]]));
    });

    it('counts a lease once however often its batch is resent, and uncounts it once', async () => {
      await ledger.take(1, T, WINDOW);
      const batch = { grants: [grant('a', T), grant('b', T + 1)], released: [] };
      expect(await ledger.write(1, batch, T)).toBe('ok');
      expect(await ledger.write(1, batch, T)).toBe('ok');
      expect(await ledger.inFlight(['line:l1'])).toEqual(new Map([['line:l1', 2]]));
      await ledger.write(1, { grants: [], released: ['a', 'a', 'never-granted'] }, T + 5);
      await ledger.write(1, { grants: [], released: ['a'] }, T + 6);
      expect(await ledger.inFlight(['line:l1', 'switch:s1'])).toEqual(
        new Map([
          ['line:l1', 1],
          ['switch:s1', 1],
        ]),
      );
    });

    it('hands a successor the pace entries still in the window, sorted, the schedule, and the unexpired leases', async () => {
      await ledger.take(1, T, WINDOW);
      const shortLived = { ...grant('c', T + 300), expiresAtMs: T + 1_500 };
      await ledger.write(
        1,
        {
          grants: [grant('a', T + 100, T + 600), grant('b', T + 1_400, T + 1_900.5), shortLived],
          released: [],
        },
        T + 1_400,
      );
      await ledger.write(1, { grants: [], released: ['b'] }, T + 1_450);
      const snapshot = await ledger.take(2, T + 1_500, WINDOW);
      // At T + 1,500 the window starts at T + 490: entry a (T + 100) has left it; c expired.
      expect(snapshot?.pace).toEqual(new Map([['line:l1', { tat: T + 1_900.5, entries: [T + 1_400] }]]));
      expect(snapshot?.leases).toEqual(
        new Map([['a', { keys: ['line:l1', 'switch:s1'], expiresAtMs: T + 3_600_000 }]]),
      );
      expect(await ledger.inFlight(['line:l1'])).toEqual(new Map([['line:l1', 1]]));
      expect(snapshot?.complete).toBe(false);
    });

    it('is rebuilt after a loss by replace, and complete only when declared so', async () => {
      await ledger.take(1, T, WINDOW);
      await ledger.replace(1, { pace: new Map(), leases: new Map() }, true);
      await ledger.write(1, { grants: [grant('a', T)], released: [] }, T);
      expect((await ledger.take(1, T, WINDOW))?.complete).toBe(true);

      const lost = (await harness.lose()).ledger;
      expect(await lost.write(1, { grants: [grant('b', T + 1)], released: [] }, T + 1)).toBe('lost');
      const state = {
        pace: new Map([
          ['line:l1', { tat: T + 333.3333333333333, entries: [T + 0.25, T + 1, T + 1] }],
          ['tenant:t1', { tat: T + 2_000, entries: [] }],
        ]),
        leases: new Map([
          ['a', { keys: ['line:l1', 'tenant:t1'], expiresAtMs: T + 60_000 }],
          ['b', { keys: ['line:l1'], expiresAtMs: T + 60_000 }],
        ]),
      };
      expect(await lost.replace(1, state, false)).toBe('ok');
      expect(await lost.inFlight(['line:l1', 'tenant:t1'])).toEqual(
        new Map([
          ['line:l1', 2],
          ['tenant:t1', 1],
        ]),
      );
      const incomplete = await lost.take(2, T + 2, WINDOW);
      expect(incomplete).toEqual({ ...state, complete: false, previousFence: 1 });
      await lost.replace(2, state, true);
      expect((await lost.take(3, T + 2, WINDOW))?.complete).toBe(true);
    });

    it('refuses malformed input whole, before anything is written', async () => {
      await ledger.take(1, T, WINDOW);
      await expect(
        ledger.write(1, { grants: [grant('a', T), { ...grant('', T) }], released: [] }, T),
      ).rejects.toBeInstanceOf(CoordInvalidInputError);
      await expect(
        ledger.write(1, { grants: [grant('a', Number.NaN)], released: [] }, T),
      ).rejects.toBeInstanceOf(CoordInvalidInputError);
      await expect(ledger.write(-1, { grants: [], released: [] }, T)).rejects.toBeInstanceOf(
        CoordInvalidInputError,
      );
      expect(await ledger.inFlight(['line:l1'])).toEqual(new Map([['line:l1', 0]]));
    });
  });
});
