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
    expect(slots.paceAllowedAt('line:a')).toBe(10);
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
        (caps, maxConcurrent, arrivals) => {
          const slots = new MemoryDialSlots(0);
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
