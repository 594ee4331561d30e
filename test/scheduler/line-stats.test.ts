import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OUTCOMES, type Outcome } from '../../src/domain/outcome.js';
import { type MinuteCounts, OutcomeWindow } from '../../src/scheduler/line-stats.js';

const MINUTE = 60_000;
const T0 = 1_800_000_000_000; // a whole minute

function recordMany(window: OutcomeWindow, outcome: Outcome, count: number, atMs: number): void {
  for (let i = 0; i < count; i++) window.record(outcome, atMs);
}

const counts = (partial: Partial<MinuteCounts>): MinuteCounts => ({
  attempts: 0,
  answered: 0,
  failures: 0,
  notDialed: 0,
  inconclusive: 0,
  ...partial,
});

describe('OutcomeWindow counts', () => {
  it('counts each outcome where it belongs; not_dialed, cancelled and unknown are not attempts', () => {
    const window = new OutcomeWindow();
    for (const outcome of OUTCOMES) window.record(outcome, T0);
    expect(window.totals(T0, 1)).toEqual({
      attempts: 6, // answered, busy, no_answer, rejected, invalid_number, network_failure
      answered: 1,
      failures: 1,
      notDialed: 1,
      inconclusive: 2,
    });
  });

  it('rolls over at the minute boundary', () => {
    const window = new OutcomeWindow();
    window.record('answered', T0 + MINUTE - 1);
    window.record('busy', T0 + MINUTE);
    expect(window.totals(T0 + MINUTE - 1, 1)).toEqual(counts({ attempts: 1, answered: 1 }));
    expect(window.totals(T0 + MINUTE, 1)).toEqual(counts({ attempts: 1 }));
    expect(window.totals(T0 + MINUTE, 2)).toEqual(counts({ attempts: 2, answered: 1 }));
    expect(window.totals(T0 + 2 * MINUTE, 2)).toEqual(counts({ attempts: 1 }));
    expect(window.totals(T0 + 3 * MINUTE, 2)).toEqual(counts({}));
  });

  it('clears buckets across gaps of many minutes, including exactly one lap of the ring', () => {
    const window = new OutcomeWindow({ minutes: 10 });
    recordMany(window, 'answered', 5, T0);
    // Exactly 10 minutes later the same bucket is reused: the old counts must not leak into it.
    window.record('no_answer', T0 + 10 * MINUTE);
    expect(window.totals(T0 + 10 * MINUTE, 10)).toEqual(counts({ attempts: 1 }));
    recordMany(window, 'network_failure', 3, T0 + 1_000 * MINUTE + 5);
    expect(window.totals(T0 + 1_000 * MINUTE, 10)).toEqual(counts({ attempts: 3, failures: 3 }));
    // Nothing recorded for a long time: sums are empty even though the buckets were never reused.
    expect(window.totals(T0 + 5_000 * MINUTE, 10)).toEqual(counts({}));
  });

  it('adds a late report to its own minute while kept, and drops it once its bucket was reused', () => {
    const window = new OutcomeWindow({ minutes: 5 });
    window.record('answered', T0 + 3 * MINUTE);
    window.record('busy', T0 + MINUTE); // late but still kept
    expect(window.totals(T0 + 3 * MINUTE, 5)).toEqual(counts({ attempts: 2, answered: 1 }));
    window.record('answered', T0 + 6 * MINUTE); // reuses minute 1's bucket
    window.record('rejected', T0 + MINUTE); // too late: must not land in minute 6
    expect(window.totals(T0 + 6 * MINUTE, 1)).toEqual(counts({ attempts: 1, answered: 1 }));
    expect(window.totals(T0 + 6 * MINUTE, 5)).toEqual(counts({ attempts: 2, answered: 2 }));
  });

  it('refuses a span it does not keep', () => {
    const window = new OutcomeWindow({ minutes: 10 });
    expect(() => window.totals(T0, 11)).toThrow(RangeError);
    expect(() => window.totals(T0, 0)).toThrow(RangeError);
    expect(() => window.totals(T0, 1.5)).toThrow(RangeError);
    expect(() => new OutcomeWindow({ minutes: 0 })).toThrow(RangeError);
  });

  it('agrees with a plain list of records for random in-order workloads (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.array(
          fc.record({
            gapMs: fc.integer({ min: 0, max: 5 * MINUTE }),
            outcome: fc.constantFrom(...OUTCOMES),
          }),
          {
            maxLength: 200,
          },
        ),
        fc.integer({ min: 0, max: 40 * MINUTE }),
        (kept, events, tailMs) => {
          const window = new OutcomeWindow({ minutes: kept });
          const log: Array<{ minute: number; outcome: Outcome }> = [];
          let t = T0;
          for (const { gapMs, outcome } of events) {
            t += gapMs;
            window.record(outcome, t);
            log.push({ minute: Math.floor(t / MINUTE), outcome });
          }
          const now = t + tailMs;
          for (let span = 1; span <= kept; span++) {
            const first = Math.floor(now / MINUTE) - span + 1;
            const inSpan = log.filter((entry) => entry.minute >= first).map((entry) => entry.outcome);
            const of = (...outcomes: Outcome[]) => inSpan.filter((o) => outcomes.includes(o)).length;
            expect(window.totals(now, span)).toEqual({
              attempts: of('answered', 'busy', 'no_answer', 'rejected', 'invalid_number', 'network_failure'),
              answered: of('answered'),
              failures: of('network_failure'),
              notDialed: of('not_dialed'),
              inconclusive: of('cancelled', 'unknown'),
            });
          }
        },
      ),
    );
  });
});

describe('OutcomeWindow answer rates', () => {
  it('smooths toward the prior with the prior weight in pseudo-attempts', () => {
    const window = new OutcomeWindow();
    expect(window.smoothedAnswerRate(T0, 5, 0.3, 10)).toBeCloseTo(0.3);
    expect(window.smoothedAnswerRate(T0, 5, 0.3, 0)).toBe(0.3); // nothing at all: the prior
    recordMany(window, 'answered', 5, T0);
    recordMany(window, 'no_answer', 5, T0);
    recordMany(window, 'not_dialed', 50, T0); // never reached the carrier: no effect
    expect(window.smoothedAnswerRate(T0, 5, 0.3, 10)).toBeCloseTo((5 + 3) / 20);
    expect(window.smoothedAnswerRate(T0, 5, 0.3, 0)).toBeCloseTo(0.5);
    // Six minutes on, the span no longer holds them.
    expect(window.smoothedAnswerRate(T0 + 5 * MINUTE, 5, 0.3, 10)).toBeCloseTo(0.3);
  });

  it('has no baseline until enough attempts in complete older minutes', () => {
    const window = new OutcomeWindow();
    recordMany(window, 'answered', 60, T0);
    // All in the current minute: excluded.
    expect(window.baselineAnswerRate(T0, { minAttempts: 50 })).toBeUndefined();
    expect(window.baselineAnswerRate(T0 + MINUTE, { minAttempts: 50 })).toBe(1);
    expect(window.baselineAnswerRate(T0 + MINUTE, { minAttempts: 61 })).toBeUndefined();
    // Default minAttempts is 50.
    expect(window.baselineAnswerRate(T0 + MINUTE)).toBe(1);
  });

  it('weights minutes by attempts and by exponential decay with age', () => {
    const window = new OutcomeWindow();
    // minute 0: 10 attempts, none answered; minute 1: 10 attempts, all answered; now in minute 2.
    recordMany(window, 'no_answer', 10, T0);
    recordMany(window, 'answered', 10, T0 + MINUTE);
    const now = T0 + 2 * MINUTE + 30_000;
    // Half-life 1 minute: minute 1 weighs 1, minute 0 weighs 0.5 → 10 / (10 + 5).
    expect(window.baselineAnswerRate(now, { minAttempts: 1, halfLifeMinutes: 1 })).toBeCloseTo(10 / 15);
    // A long half-life is nearly the plain ratio.
    expect(window.baselineAnswerRate(now, { minAttempts: 1, halfLifeMinutes: 1e9 })).toBeCloseTo(0.5);
    // A busy minute outweighs a quiet one regardless of their per-minute rates.
    recordMany(window, 'no_answer', 90, T0);
    expect(window.baselineAnswerRate(now, { minAttempts: 1, halfLifeMinutes: 1e9 })).toBeCloseTo(10 / 110);
  });

  it('leaves out the recent minutes being judged, and looks back only `minutes`', () => {
    const window = new OutcomeWindow();
    recordMany(window, 'answered', 20, T0);
    recordMany(window, 'network_failure', 20, T0 + MINUTE);
    const now = T0 + 2 * MINUTE;
    expect(window.baselineAnswerRate(now, { minAttempts: 1 })).toBeCloseTo(20 / 40, 1);
    expect(window.baselineAnswerRate(now, { minAttempts: 1, excludeRecentMinutes: 2 })).toBe(1);
    expect(window.baselineAnswerRate(now, { minAttempts: 1, minutes: 1 })).toBe(0);
    expect(() => window.baselineAnswerRate(now, { minutes: 60 })).toThrow(RangeError);
    expect(() => window.baselineAnswerRate(now, { halfLifeMinutes: 0 })).toThrow(RangeError);
  });

  it('forgets the recent minutes on request, and only those', () => {
    const window = new OutcomeWindow();
    recordMany(window, 'answered', 10, T0);
    recordMany(window, 'network_failure', 10, T0 + MINUTE);
    recordMany(window, 'network_failure', 10, T0 + 2 * MINUTE);
    window.forgetRecent(T0 + 2 * MINUTE, 2);
    expect(window.totals(T0 + 2 * MINUTE, 3)).toEqual(counts({ attempts: 10, answered: 10 }));
    window.record('busy', T0 + 2 * MINUTE);
    expect(window.totals(T0 + 2 * MINUTE, 1)).toEqual(counts({ attempts: 1 }));
  });
});
