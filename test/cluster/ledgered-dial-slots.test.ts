import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { LedgeredDialSlots, LedgerSync } from '../../src/cluster/ledgered-dial-slots.js';
import { STREAMS } from '../../src/cluster/messages.js';
import { RemoteDialPort } from '../../src/cluster/remote-dial-port.js';
import type { LedgerChange, LedgerWriteResult, SlotLedger } from '../../src/coord/cluster-contract.js';
import type { SlotLevel } from '../../src/coord/contract.js';
import { createMemoryCoordination } from '../../src/coord/memory-coordination.js';
import { MemoryDialSlots } from '../../src/coord/memory-dial-slots.js';
import { MemorySlotLedger } from '../../src/coord/memory-slot-ledger.js';
import type { DialOrder } from '../../src/domain/dial-order.js';

const T = 1_763_800_000_000;
const UNSENT_BOUND_MS = 500;
const GUARD_MS = 10;
const WINDOW_MS = 1_000 + GUARD_MS;
const TTL_MS = 3_600_000;
const LEVELS: SlotLevel[] = [
  { key: 'line:l1', capsPerSecond: 2, maxConcurrent: 10 },
  { key: 'switch:s1', capsPerSecond: null, maxConcurrent: 100 },
];
const silent = pino({ level: 'silent' });

/** A leader's slots wired to a ledger, as SchedulerNode wires them (syncs run when asked). */
function leaderSlots(ledger: SlotLedger, token: number, now: () => number, mayRebuild = () => true) {
  const memory = new MemoryDialSlots(GUARD_MS, 0, UNSENT_BOUND_MS);
  const slots = new LedgeredDialSlots(memory, UNSENT_BOUND_MS, () => {});
  const fenced: string[] = [];
  const sync = new LedgerSync({
    ledger,
    slots,
    fence: () => token,
    clock: now,
    logger: silent,
    onFenced: () => fenced.push('fenced'),
    mayRebuild,
  });
  return { memory, slots, sync, fenced };
}

describe('the leader’s dial slots and the slot ledger', () => {
  it('writes every grant and release, so the ledger’s in-flight counts are the leader’s', async () => {
    const ledger = new MemorySlotLedger();
    await ledger.take(1, T, WINDOW_MS);
    const leader = leaderSlots(ledger, 1, () => T);
    expect(leader.slots.acquire('a', LEVELS, T, TTL_MS).granted).toBe(true);
    leader.slots.adopt('found-live', LEVELS, T, TTL_MS);
    expect(await leader.sync.sync()).toBe(true);
    expect(await ledger.inFlight(['line:l1', 'switch:s1'])).toEqual(
      new Map([
        ['line:l1', 2],
        ['switch:s1', 2],
      ]),
    );
    leader.slots.release('a');
    expect(leader.slots.expire(T + TTL_MS)).toEqual(['found-live']);
    expect(await leader.sync.sync()).toBe(true);
    expect(await ledger.inFlight(['line:l1', 'switch:s1'])).toEqual(
      new Map([
        ['line:l1', 0],
        ['switch:s1', 0],
      ]),
    );
  });

  it('lets a successor go on at once without exceeding the CAPS its predecessor used', async () => {
    const ledger = new MemorySlotLedger();
    await ledger.take(1, T, WINDOW_MS);
    const first = leaderSlots(ledger, 1, () => T);
    expect(first.slots.acquire('a', LEVELS, T, TTL_MS).granted).toBe(true);
    expect(first.slots.acquire('b', LEVELS, T + 600, TTL_MS).granted).toBe(true);
    await first.sync.sync();

    // The first leader dies; the next takes the ledger at T + 700.
    const snapshot = await ledger.take(2, T + 700, WINDOW_MS);
    const next = new MemoryDialSlots(GUARD_MS, 0, UNSENT_BOUND_MS);
    next.restorePace(snapshot!.pace);
    // Both calls may reach the line as late as T + 500 and T + 1,100: at 2 CAPS the line is full
    // until the first of them leaves the window.
    expect(next.paceAllowedAt('line:l1', 2, T + 700)).toBe(T + UNSENT_BOUND_MS + WINDOW_MS);
    expect(next.acquire('c', LEVELS, T + 700, TTL_MS).granted).toBe(false);
    expect(next.acquire('c', LEVELS, T + UNSENT_BOUND_MS + WINDOW_MS, TTL_MS).granted).toBe(true);
  });

  it('holds a deposed leader’s orders back: its write is fenced, so they are never published', async () => {
    const coord = createMemoryCoordination();
    await coord.ledger.take(1, T, WINDOW_MS);
    const old = leaderSlots(coord.ledger, 1, () => T);
    const port = new RemoteDialPort(
      coord.bus,
      () => 1,
      () => {},
      () => old.sync.sync(),
    );
    const delivered: unknown[] = [];
    const subscription = coord.bus.subscribe(STREAMS.orders('w1'), (messages) => {
      delivered.push(...messages);
    });
    port.setLiveWorkers(new Map([['w1', { maxCalls: 10, activeCalls: 0, readySwitches: ['s1'] }]]));

    await coord.ledger.take(2, T + 100, WINDOW_MS); // a successor took over meanwhile
    old.slots.acquire('a', LEVELS, T + 100, TTL_MS);
    port.dial(order('a'), port.assignWorker('s1', 'a'));
    port.requestAdoption('w1', 'w9');
    await port.flush();
    expect(old.fenced).toEqual(['fenced']);
    // The adoption request went out; the dial order did not.
    await vi.waitFor(() => expect(delivered).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await subscription.close();
    expect(delivered).toEqual([{ kind: 'adopt', fence: 1, fromWorkerId: 'w9' }]);
    await coord.close();
  });

  it('writes a batch that failed with the next one, and holds back the orders of the failed one', async () => {
    const inner = new MemorySlotLedger();
    await inner.take(1, T, WINDOW_MS);
    let down = true;
    const flaky: SlotLedger = {
      write: (fence: number, change: LedgerChange, nowMs: number): Promise<LedgerWriteResult> =>
        down ? Promise.reject(new Error('redis unreachable')) : inner.write(fence, change, nowMs),
      take: (...args) => inner.take(...args),
      replace: (...args) => inner.replace(...args),
      inFlight: (keys) => inner.inFlight(keys),
    };
    const leader = leaderSlots(flaky, 1, () => T);
    leader.slots.acquire('a', LEVELS, T, TTL_MS);
    expect(await leader.sync.sync()).toBe(false);
    down = false;
    expect(leader.slots.acquire('b', LEVELS, T + 600, TTL_MS).granted).toBe(true);
    expect(await leader.sync.sync()).toBe(true);
    expect((await inner.take(2, T + 700, WINDOW_MS))?.pace.get('line:l1')?.entries).toEqual([
      T + UNSENT_BOUND_MS,
      T + 600 + UNSENT_BOUND_MS,
    ]);
  });

  it('keeps a batch queued while the leader cannot vouch for its term, and writes it once it can', async () => {
    const ledger = new MemorySlotLedger();
    await ledger.take(1, T, WINDOW_MS);
    let token: number | null = null;
    const memory = new MemoryDialSlots(GUARD_MS, 0, UNSENT_BOUND_MS);
    const slots = new LedgeredDialSlots(memory, UNSENT_BOUND_MS, () => {});
    const sync = new LedgerSync({
      ledger,
      slots,
      fence: () => token,
      clock: () => T,
      logger: silent,
      onFenced: () => {},
      mayRebuild: () => true,
    });
    slots.acquire('a', LEVELS, T, TTL_MS);
    expect(await sync.sync()).toBe(false);
    token = 1;
    expect(await sync.sync()).toBe(true);
    expect(await ledger.inFlight(['line:l1'])).toEqual(new Map([['line:l1', 1]]));
  });

  it('rebuilds a lost ledger from the leader’s memory, complete — but not while it cannot know it all', async () => {
    let ledger = new MemorySlotLedger();
    await ledger.take(1, T, WINDOW_MS);
    let complete = false;
    const leader = leaderSlots(
      {
        write: (...a) => ledger.write(...a),
        take: (...a) => ledger.take(...a),
        replace: (...a) => ledger.replace(...a),
        inFlight: (k) => ledger.inFlight(k),
      },
      1,
      () => T + 100,
      () => complete,
    );
    leader.slots.acquire('a', LEVELS, T, TTL_MS);
    await leader.sync.sync();
    ledger = new MemorySlotLedger(); // Redis restarted empty
    expect(leader.slots.acquire('b', LEVELS, T + 600, TTL_MS).granted).toBe(true);
    expect(await leader.sync.sync()).toBe(false); // still in its quiet period: it cannot vouch for the ledger
    complete = true;
    expect(leader.slots.acquire('c', LEVELS, T + 1_600, TTL_MS).granted).toBe(true);
    expect(await leader.sync.sync()).toBe(true);
    const snapshot = await ledger.take(2, T + 1_700, WINDOW_MS);
    expect(snapshot?.complete).toBe(true);
    expect([...(snapshot?.leases.keys() ?? [])].sort()).toEqual(['a', 'b', 'c']);
    // Taken at T + 1,700: a's entry (latest send T + 500) has left the window; b's and c's count.
    expect(snapshot?.pace.get('line:l1')?.entries).toEqual([T + 1_100, T + 2_100]);
  });
});

function order(attemptId: string): DialOrder {
  return {
    attemptId,
    taskId: `task-${attemptId}`,
    tenantId: 't1',
    campaign: {
      id: 'c1',
      retryPolicy: { maxAttempts: 1, delays: {} },
      ringTimeoutSec: 30,
      maxCallDurationSec: 600,
    },
    line: { id: 'l1', dialTemplate: null, numberFormat: 'e164' },
    gateway: { id: 'g1', name: 'gw1' },
    switchId: 's1',
    callerId: null,
    numberSealed: 'sealed',
    numberMasked: '+1******0000',
    variables: {},
    taskAttemptCount: 0,
    taskNotDialedCount: 0,
    taskExpiresAt: null,
    dispatchedAtMs: T,
  } as unknown as DialOrder;
}
