import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SlotLevel } from '../../src/coord/contract.js';
import { MemoryDialSlots } from '../../src/coord/memory-dial-slots.js';

const line = (caps: number | null, maxConcurrent: number | null): SlotLevel => ({
  key: 'line:a',
  capsPerSecond: caps,
  maxConcurrent,
});

describe('dial slots', () => {
  it('admits exactly N per second at the edge, and refuses the N+1th', () => {
    const slots = new MemoryDialSlots(0);
    const t0 = 1_000_000;
    // 10 CAPS: one every 100 ms. Inside [t0, t0+1000) exactly 10 are granted.
    let granted = 0;
    for (let t = t0; t < t0 + 1000; t++)
      if (slots.acquire(`a${t}`, [line(10, null)], t, 60_000).granted) granted++;
    expect(granted).toBe(10);
    expect(slots.acquire('late', [line(10, null)], t0 + 999, 60_000)).toMatchObject({
      granted: false,
      denial: { reason: 'caps', retryAtMs: t0 + 1000 },
    });
    expect(slots.acquire('next', [line(10, null)], t0 + 1000, 60_000).granted).toBe(true);
  });

  it('widens the window by the guard', () => {
    const slots = new MemoryDialSlots(10);
    expect(slots.acquire('a', [line(10, null)], 0, 1).granted).toBe(true);
    expect(slots.acquire('b', [line(10, null)], 100, 1).granted).toBe(false);
    expect(slots.acquire('c', [line(10, null)], 101, 1).granted).toBe(true);
  });

  it('with a tolerance, a late caller keeps its pace, yet never exceeds N in a window', () => {
    const random = fc.sample(fc.integer({ min: 0, max: 40 }), { numRuns: 200, seed: 7 });
    const run = (toleranceMs: number) => {
      const slots = new MemoryDialSlots(0, toleranceMs);
      const granted: number[] = [];
      // 10 CAPS (one per 100 ms); the caller wakes on schedule but 0–40 ms late, as timers do.
      for (let i = 0; i < 200; i++) {
        const t = i * 100 + random[i]!;
        for (let k = 0; k < 3; k++)
          if (slots.acquire(`a${i}-${k}`, [line(10, null)], t, 1e9).granted) granted.push(t);
      }
      return granted;
    };
    const tolerant = run(50);
    for (let i = 0; i + 10 < tolerant.length; i++)
      expect(tolerant[i + 10]! - tolerant[i]!).toBeGreaterThanOrEqual(1000);
    // Jitter of 40 % of the interval is adversarial (the exact window then blocks some wakes);
    // still, lateness is caught up instead of pushing the schedule back for good.
    expect(tolerant.length).toBeGreaterThanOrEqual(180);
    expect(run(0).length).toBeLessThan(140);
  });

  it('counts the window in send time: a call written late holds its place in the window until then', () => {
    const slots = new MemoryDialSlots(0, 1000);
    expect(slots.acquire('a', [line(1, null)], 0, 1e9).granted).toBe(true);
    slots.markSent('a', 40); // written 40 ms after the decision
    // The pace alone would allow the next at 1000; the switch saw the first at 40.
    expect(slots.acquire('b', [line(1, null)], 1000, 1e9)).toMatchObject({
      granted: false,
      denial: { retryAtMs: 1040 },
    });
    expect(slots.acquire('b', [line(1, null)], 1040, 1e9).granted).toBe(true);
  });

  it('with an unsent bound, counts a grant not yet reported sent at its latest possible send time', () => {
    const slots = new MemoryDialSlots(0, 1000, 500);
    expect(slots.acquire('a', [line(2, null)], 0, 1e9).granted).toBe(true);
    expect(slots.acquire('b', [line(2, null)], 500, 1e9).granted).toBe(true);
    // 'a' is never reported (its worker paused): it may still reach the switch as late as 500.
    slots.markSent('b', 510);
    expect(slots.acquire('c', [line(2, null)], 1000, 1e9)).toMatchObject({
      granted: false,
      denial: { retryAtMs: 1500 },
    });
    // Reported at last, sent at 20: the window is counted from there.
    slots.markSent('a', 20);
    expect(slots.acquire('c', [line(2, null)], 1020, 1e9).granted).toBe(true);
    // Reported twice: the first report stands.
    slots.markSent('a', 900);
    expect(slots.acquire('d', [line(2, null)], 1510, 1e9).granted).toBe(true);
  });

  it('caps concurrency and frees it on release', () => {
    const slots = new MemoryDialSlots(0);
    expect(slots.acquire('a', [line(null, 2)], 0, 1000).granted).toBe(true);
    expect(slots.acquire('b', [line(null, 2)], 0, 1000).granted).toBe(true);
    expect(slots.acquire('c', [line(null, 2)], 0, 1000)).toMatchObject({
      granted: false,
      denial: { reason: 'concurrency' },
    });
    expect(slots.release('a')).toBe(true);
    expect(slots.release('a')).toBe(false);
    expect(slots.acquire('c', [line(null, 2)], 0, 1000).granted).toBe(true);
  });

  it('takes all levels or none', () => {
    const slots = new MemoryDialSlots(0);
    const sw: SlotLevel = { key: 'switch:1', capsPerSecond: 100, maxConcurrent: 1 };
    expect(slots.acquire('a', [line(100, 5), sw], 0, 1000).granted).toBe(true);
    const refused = slots.acquire('b', [line(100, 5), sw], 50, 1000);
    expect(refused).toMatchObject({ granted: false, denial: { key: 'switch:1', reason: 'concurrency' } });
    // the line level gave nothing away: no concurrency held, its pace untouched by the refusal
    expect(slots.inFlight('line:a')).toBe(1);
    expect(slots.paceAllowedAt('line:a', 100, 50)).toBe(10);
  });

  it('expires a lease whose hang-up was lost', () => {
    const slots = new MemoryDialSlots(0);
    slots.acquire('a', [line(null, 1)], 0, 1000);
    expect(slots.expire(999)).toEqual([]);
    expect(slots.expire(1000)).toEqual(['a']);
    expect(slots.inFlight('line:a')).toBe(0);
  });

  it('never exceeds a limit for random workloads (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(
          fc.record({ gapMs: fc.integer({ min: 0, max: 120 }), holdMs: fc.integer({ min: 1, max: 3000 }) }),
          { maxLength: 300 },
        ),
        fc.integer({ min: 0, max: 200 }),
        (caps, maxConcurrent, arrivals, toleranceMs) => {
          const slots = new MemoryDialSlots(0, toleranceMs);
          const grants: number[] = [];
          const ends: Array<{ id: string; at: number }> = [];
          let t = 0;
          arrivals.forEach((a, i) => {
            t += a.gapMs;
            for (const end of ends.filter((e) => e.at <= t)) slots.release(end.id);
            const id = `c${i}`;
            if (slots.acquire(id, [line(caps, maxConcurrent)], t, 1e9).granted) {
              grants.push(t);
              ends.push({ id, at: t + a.holdMs });
            }
            expect(slots.inFlight('line:a')).toBeLessThanOrEqual(maxConcurrent);
          });
          for (let i = 0; i + caps < grants.length; i++)
            expect(grants[i + caps]! - grants[i]!).toBeGreaterThanOrEqual(1000);
        },
      ),
    );
  });
});
