import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OUTCOMES, type Outcome } from '../../src/domain/outcome.js';
import { IllegalTransitionError } from '../../src/domain/state-machine.js';
import {
  assertHealthTransition,
  DEFAULT_HEALTH_POLICY,
  HEALTH_STATES,
  HEALTH_TRANSITIONS,
  type HealthChange,
  InvalidHealthPolicyError,
  LineHealth,
} from '../../src/scheduler/line-health.js';

const MINUTE = 60_000;
const T0 = 1_800_000_000_000; // a whole minute

/** Feeds outcomes one per `stepMs` from `atMs`; returns the changes and the time after the last. */
function feed(
  health: LineHealth,
  outcomes: Outcome[],
  atMs: number,
  stepMs = 100,
): { changes: HealthChange[]; endMs: number } {
  const changes: HealthChange[] = [];
  let t = atMs;
  for (const outcome of outcomes) {
    const change = health.record(outcome, t);
    if (change) changes.push(change);
    t += stepMs;
  }
  return { changes, endMs: t };
}

const times = (outcome: Outcome, n: number): Outcome[] => Array(n).fill(outcome);

/** `answered` of every `per` attempts answered, the rest no_answer, interleaved. */
function mix(attempts: number, answered: number): Outcome[] {
  return Array.from({ length: attempts }, (_, i) =>
    Math.floor(((i + 1) * answered) / attempts) > Math.floor((i * answered) / attempts)
      ? 'answered'
      : 'no_answer',
  );
}

/**
 * A line with 30 minutes of history at a 40 % answer rate, 20 attempts a minute; returns the start
 * of the minute after a quiet one, so that the 2-minute verdict window starts empty.
 */
function withHistory(health: LineHealth): number {
  for (let m = 0; m < 30; m++) {
    const { changes } = feed(health, mix(20, 8), T0 + m * MINUTE, 1_000);
    expect(changes).toEqual([]);
  }
  return T0 + 31 * MINUTE;
}

/** Drives a healthy line with history to an answer-rate collapse; returns the ejection. */
function collapse(health: LineHealth, atMs: number): HealthChange {
  const { changes } = feed(health, times('no_answer', DEFAULT_HEALTH_POLICY.minAttempts), atMs);
  expect(changes).toHaveLength(1);
  return changes[0] as HealthChange;
}

describe('line health: ejection', () => {
  it('starts healthy and in service at full CAPS', () => {
    const health = new LineHealth();
    expect(health.state).toBe('healthy');
    expect(health.override).toBeNull();
    expect(health.admission(T0)).toEqual({ usable: true, capsShare: 1, state: 'healthy', reason: 'healthy' });
    expect(health.nextTransitionAtMs()).toBeNull();
  });

  it('ejects on an answer-rate collapse against its own baseline, not before minAttempts', () => {
    const health = new LineHealth();
    const t = withHistory(health);
    expect(health.stats(t).baseline).toBeCloseTo(0.4);
    const { changes, endMs } = feed(health, times('no_answer', 19), t);
    expect(changes).toEqual([]);
    // not_dialed, cancelled and unknown say nothing about the carrier: still no verdict.
    expect(feed(health, ['not_dialed', 'cancelled', 'unknown'], endMs).changes).toEqual([]);
    const ejection = health.record('no_answer', endMs + 300);
    expect(ejection).toMatchObject({
      from: 'healthy',
      to: 'ejected',
      atMs: endMs + 300,
      reason: 'answer_rate_collapse',
      override: null,
      answerRate: 0,
      failureShare: 0,
      attempts: 20,
      cooldownMs: 60_000,
    });
    expect(ejection?.baseline).toBeCloseTo(0.4);
    expect(health.state).toBe('ejected');
    expect(health.admission(endMs + 300)).toMatchObject({ usable: false, capsShare: 0, state: 'ejected' });
    expect(health.admission(endMs + 300).reason).toMatch(/answer_rate_collapse/);
  });

  it('tolerates a dip that stays above baseline × collapseRatio', () => {
    const health = new LineHealth();
    const t = withHistory(health);
    // 3 of 20 = 0.15 ≥ 0.4 × 0.3 = 0.12.
    expect(feed(health, mix(20, 3), t).changes).toEqual([]);
    expect(health.state).toBe('healthy');
  });

  it('ejects a line that is dead from the start, against the absolute floor', () => {
    const health = new LineHealth();
    const { changes } = feed(health, times('no_answer', 20), T0);
    expect(changes).toEqual([
      expect.objectContaining({
        from: 'healthy',
        to: 'ejected',
        reason: 'dead_line',
        answerRate: 0,
        attempts: 20,
      }),
    ]);
    expect(changes[0]?.baseline).toBeUndefined();
  });

  it('keeps a new line whose answer rate is low but at the floor', () => {
    const health = new LineHealth();
    // 1 of 20 = 0.05, not below 0.05.
    expect(feed(health, mix(20, 1), T0).changes).toEqual([]);
  });

  it('ejects on a failure spike, share strictly above failureShare', () => {
    const health = new LineHealth();
    const t = withHistory(health);
    const half: Outcome[] = [...times('network_failure', 10), ...times('answered', 10)];
    expect(feed(health, half, t).changes).toEqual([]);
    const later = t + 5 * MINUTE;
    const spike: Outcome[] = [...times('answered', 9), ...times('network_failure', 11)];
    const { changes } = feed(health, spike, later);
    expect(changes).toEqual([
      expect.objectContaining({
        reason: 'failure_spike',
        failureShare: 11 / 20,
        answerRate: 9 / 20,
        attempts: 20,
      }),
    ]);
  });

  it('judges only the last windowMinutes', () => {
    const health = new LineHealth();
    const t = withHistory(health);
    // 15 failures, then three minutes of quiet: they have left the window before the next 15.
    feed(health, times('no_answer', 15), t);
    expect(feed(health, times('no_answer', 15), t + 3 * MINUTE).changes).toEqual([]);
  });
});

describe('line health: young windows (calls still unsettled)', () => {
  /** Feeds outcomes while `unsettled(i)` calls are still out on the line. */
  function feedWith(health: LineHealth, outcomes: Outcome[], atMs: number, unsettled: (i: number) => number) {
    const changes: HealthChange[] = [];
    outcomes.forEach((outcome, i) => {
      const change = health.record(outcome, atMs + i * 10, unsettled(i));
      if (change) changes.push(change);
    });
    return changes;
  }

  it('does not read a saturated start’s fast failures as a dead line while answers are still ringing', () => {
    const health = new LineHealth();
    // 200 calls out at once; the 60 that fail fast settle first (each leaves one fewer out).
    expect(feedWith(health, times('busy', 60), T0, (i) => 200 - i - 1)).toEqual([]);
    // Then the answers and the no-answers: 60 % of the settled calls answered in all.
    expect(feedWith(health, mix(140, 120), T0 + 10_000, (i) => 140 - i - 1)).toEqual([]);
    expect(health.state).toBe('healthy');
  });

  it('still ejects a dead line once its settled calls outnumber twice the unsettled', () => {
    const health = new LineHealth();
    const changes = feedWith(health, times('rejected', 200), T0, (i) => 200 - i - 1);
    expect(changes).toHaveLength(1);
    // The 134th result: 134 settled against 66 out, no longer young; read as it is.
    expect(changes[0]).toMatchObject({ reason: 'dead_line', attempts: 134, answerRate: 0 });
    expect(changes[0]?.unsettled).toBeUndefined();
  });

  it('ejects a young window whose failures spike even counting every unsettled call as no failure', () => {
    const health = new LineHealth();
    // 20 network failures with 15 still out: 20 / 35 > 0.5 whatever the 15 turn out to be.
    const changes = feedWith(health, times('network_failure', 20), T0, () => 15);
    expect(changes).toEqual([
      expect.objectContaining({
        reason: 'failure_spike',
        attempts: 20,
        unsettled: 15,
        failureShare: 20 / 35,
      }),
    ]);
  });

  it('reads a mature window as it is, however many calls are out (settledPerUnsettled 0 turns it off)', () => {
    const off = new LineHealth({ settledPerUnsettled: 0 });
    expect(feedWith(off, times('busy', 20), T0, () => 1_000)[0]?.reason).toBe('dead_line');
    const on = new LineHealth();
    expect(feedWith(on, times('busy', 20), T0, () => 10)[0]?.reason).toBe('dead_line');
    expect(feedWith(new LineHealth(), times('busy', 20), T0, () => 11)).toEqual([]);
  });

  it('lets a young probe fail but not pass: a passing one waits for its answers to settle', () => {
    const health = new LineHealth();
    const t = withHistory(health);
    const ejection = collapse(health, t);
    const probeAt = ejection.atMs + 60_000;
    expect(health.tick(probeAt)?.to).toBe('probing');
    // Ten answers with twenty calls still out: not yet a verdict.
    expect(feedWith(health, times('answered', 10), probeAt, () => 20)).toEqual([]);
    expect(health.state).toBe('probing');
    // Once the settled outnumber twice the unsettled, it passes.
    expect(feedWith(health, times('answered', 2), probeAt + 1_000, () => 6)).toEqual([
      expect.objectContaining({ to: 'healthy', reason: 'probe_passed', attempts: 12 }),
    ]);

    const failing = new LineHealth();
    const t2 = withHistory(failing);
    const second = collapse(failing, t2);
    expect(failing.tick(second.atMs + 60_000)?.to).toBe('probing');
    // Ten network failures with six out: fails even if all six turn out well (10 / 16 > 0.5).
    expect(feedWith(failing, times('network_failure', 10), second.atMs + 60_000, () => 6)).toEqual([
      expect.objectContaining({ to: 'ejected', reason: 'probe_failed', unsettled: 6 }),
    ]);
  });
});

describe('line health: cooldown, probing and readmission', () => {
  it('probes after the cooldown at probeCapsShare, counting only results from the probe start', () => {
    const health = new LineHealth();
    const t = withHistory(health);
    const ejection = collapse(health, t);
    const ejectedAt = ejection.atMs;
    expect(health.nextTransitionAtMs()).toBe(ejectedAt + 60_000);
    expect(health.tick(ejectedAt + 59_999)).toBeNull();
    // Calls placed before the ejection still end while it is ejected: they decide nothing.
    expect(feed(health, times('answered', 30), ejectedAt + 1_000).changes).toEqual([]);
    expect(health.state).toBe('ejected');

    expect(health.tick(ejectedAt + 60_000)).toEqual({
      from: 'ejected',
      to: 'probing',
      atMs: ejectedAt + 60_000,
      reason: 'cooldown_elapsed',
      override: null,
    });
    expect(health.tick(ejectedAt + 60_001)).toBeNull();
    expect(health.nextTransitionAtMs()).toBeNull();
    expect(health.admission(ejectedAt + 60_000)).toEqual({
      usable: true,
      capsShare: 0.1,
      state: 'probing',
      reason: 'probing: 0 of 10 results',
    });
  });

  it('readmits after probeAttempts results near its baseline, and does not judge it again on the old minutes', () => {
    const health = new LineHealth();
    const t = withHistory(health);
    const ejectedAt = collapse(health, t).atMs;
    health.tick(ejectedAt + 60_000);
    // not_dialed does not count as a probe result.
    const probe: Outcome[] = ['not_dialed', ...mix(9, 3)];
    expect(feed(health, probe, ejectedAt + 61_000).changes).toEqual([]);
    expect(health.admission(ejectedAt + 62_000).reason).toBe('probing: 9 of 10 results');
    // 4 of 10 = 0.4 ≥ 0.4 × 0.6.
    const readmission = health.record('answered', ejectedAt + 63_000);
    expect(readmission).toMatchObject({
      from: 'probing',
      to: 'healthy',
      reason: 'probe_passed',
      attempts: 10,
    });
    expect(readmission?.answerRate).toBeCloseTo(0.4);
    expect(readmission?.baseline).toBeCloseTo(0.4);
    expect(health.admission(ejectedAt + 63_000)).toMatchObject({ usable: true, capsShare: 1 });
    // The collapse minutes were dropped from its history: a healthy start is not held against it,
    // and the baseline is still the old 0.4.
    // 4 of 20 = 0.2 passes alone; with the 20 collapsed attempts still counted it would be 0.1.
    expect(feed(health, mix(20, 4), ejectedAt + 64_000).changes).toEqual([]);
    expect(health.stats(ejectedAt + 3 * MINUTE).baseline).toBeCloseTo(0.4, 1);
  });

  it('re-ejects a failed probe with a doubled cooldown, capped at maxCooldownMs', () => {
    const health = new LineHealth();
    const t = withHistory(health);
    let now = collapse(health, t).atMs;
    const cooldowns: number[] = [];
    for (let round = 0; round < 6; round++) {
      now = health.nextTransitionAtMs() as number;
      expect(health.tick(now)?.to).toBe('probing');
      // 2 of 10 = 0.2 < 0.24: fails.
      const { changes, endMs } = feed(health, mix(10, 2), now + 1_000);
      expect(changes).toEqual([
        expect.objectContaining({ from: 'probing', to: 'ejected', reason: 'probe_failed' }),
      ]);
      cooldowns.push(changes[0]?.cooldownMs as number);
      expect(health.nextTransitionAtMs()).toBe(endMs - 100 + (changes[0]?.cooldownMs as number));
    }
    expect(cooldowns).toEqual([120_000, 240_000, 480_000, 600_000, 600_000, 600_000]);
  });

  it('fails a probe with too many network failures even at a good answer rate', () => {
    const health = new LineHealth();
    const t = withHistory(health);
    const ejectedAt = collapse(health, t).atMs;
    health.tick(ejectedAt + 60_000);
    const probe: Outcome[] = [...times('answered', 5), ...times('network_failure', 5)];
    expect(feed(health, probe, ejectedAt + 61_000).changes).toEqual([
      expect.objectContaining({ reason: 'probe_failed', failureShare: 0.5, answerRate: 0.5 }),
    ]);
  });

  it('doubles the cooldown of a line that flaps soon after readmission, and resets it after a calm spell', () => {
    const health = new LineHealth();
    let t = withHistory(health);
    const readmit = (): number => {
      const at = health.nextTransitionAtMs() as number;
      health.tick(at);
      const { changes, endMs } = feed(health, mix(10, 5), at + 1_000);
      expect(changes).toEqual([expect.objectContaining({ to: 'healthy' })]);
      return endMs;
    };
    expect(collapse(health, t).cooldownMs).toBe(60_000);
    t = readmit();
    // Ejected again within maxCooldownMs of the readmission: consecutive.
    expect(collapse(health, t + MINUTE).cooldownMs).toBe(120_000);
    t = readmit();
    // Healthy for longer than maxCooldownMs: a fresh start.
    for (let m = 1; m <= 10; m++) feed(health, mix(20, 8), t + m * MINUTE, 1_000);
    expect(collapse(health, t + 12 * MINUTE).cooldownMs).toBe(60_000);
  });

  it('readmits a probe without a baseline from the absolute floor up (inclusive)', () => {
    const health = new LineHealth({ answerRateFloor: 0.1 });
    const ejectedAt = feed(health, times('no_answer', 20), T0).endMs;
    health.tick(ejectedAt + 60_000);
    expect(feed(health, times('no_answer', 10), ejectedAt + 61_000).changes[0]?.reason).toBe('probe_failed');
    const next = health.nextTransitionAtMs() as number;
    health.tick(next);
    // 1 of 10 = 0.1: exactly the floor.
    expect(feed(health, mix(10, 1), next + 1_000).changes[0]).toMatchObject({
      reason: 'probe_passed',
      to: 'healthy',
    });
  });
});

describe('line health: operator overrides', () => {
  it('never uses a line forced out, whatever its health', () => {
    const health = new LineHealth();
    expect(health.setOverride('out', T0)).toEqual({
      from: 'healthy',
      to: 'healthy',
      atMs: T0,
      reason: 'override_out',
      override: 'out',
    });
    expect(health.setOverride('out', T0 + 1)).toBeNull();
    expect(health.admission(T0)).toMatchObject({ usable: false, capsShare: 0, state: 'healthy' });
    expect(health.admission(T0).reason).toMatch(/forced out/);
  });

  it('uses a line forced in at full CAPS even while ejected; clearing returns it to automatic', () => {
    const health = new LineHealth();
    const ejectedAt = feed(health, times('no_answer', 20), T0).endMs;
    expect(health.state).toBe('ejected');
    expect(health.setOverride('in', ejectedAt)).toMatchObject({
      from: 'ejected',
      to: 'ejected',
      reason: 'override_in',
      override: 'in',
    });
    expect(health.admission(ejectedAt)).toMatchObject({ usable: true, capsShare: 1, state: 'ejected' });
    // The automatic machine runs on underneath: the cooldown still ends in probing.
    const probing = health.tick(ejectedAt + 60_000);
    expect(probing).toMatchObject({ from: 'ejected', to: 'probing', override: 'in' });
    expect(health.admission(ejectedAt + 60_000)).toMatchObject({
      usable: true,
      capsShare: 1,
      state: 'probing',
    });
    expect(health.setOverride(null, ejectedAt + 61_000)).toMatchObject({
      reason: 'override_cleared',
      override: null,
    });
    expect(health.admission(ejectedAt + 61_000)).toMatchObject({
      usable: true,
      capsShare: 0.1,
      state: 'probing',
    });
  });

  it('returns a line forced out to its automatic state when cleared', () => {
    const health = new LineHealth(DEFAULT_HEALTH_POLICY, { override: 'out' });
    expect(health.admission(T0).usable).toBe(false);
    health.setOverride(null, T0);
    expect(health.admission(T0)).toMatchObject({ usable: true, capsShare: 1, state: 'healthy' });
  });

  it('refuses an override that is not in, out or null', () => {
    const health = new LineHealth();
    expect(() => health.setOverride('maybe' as never, T0)).toThrow(InvalidHealthPolicyError);
  });
});

describe('line health: transitions, policy, restore and stats', () => {
  it('allows exactly the four transitions of the machine and refuses every other', () => {
    const allowed = new Set(['healthy→ejected', 'ejected→probing', 'probing→healthy', 'probing→ejected']);
    for (const from of HEALTH_STATES) {
      for (const to of HEALTH_STATES) {
        const pair = `${from}→${to}`;
        expect(HEALTH_TRANSITIONS[from].includes(to)).toBe(allowed.has(pair));
        if (allowed.has(pair)) {
          expect(() => assertHealthTransition(from, to)).not.toThrow();
        } else {
          expect(() => assertHealthTransition(from, to)).toThrow(IllegalTransitionError);
          try {
            assertHealthTransition(from, to);
          } catch (error) {
            expect(error).toMatchObject({
              name: 'IllegalTransitionError',
              code: 'illegal_transition',
              from,
              to,
            });
          }
        }
      }
    }
  });

  it('refuses a nonsensical policy, naming the field', () => {
    const bad = [
      { windowMinutes: 0 },
      { windowMinutes: 1.5 },
      { minAttempts: 0 },
      { collapseRatio: 0 },
      { failureShare: 1.5 },
      { cooldownMs: -1 },
      { maxCooldownMs: 1_000 },
      { probeAttempts: 0 },
      { readmitRatio: Number.NaN },
      { probeCapsShare: 0 },
      { answerRateFloor: 1 },
      { baselineMinutes: 0 },
      { baselineMinAttempts: 0.5 },
      { settledPerUnsettled: -1 },
    ];
    for (const policy of bad) {
      const field = Object.keys(policy)[0] as string;
      expect(() => new LineHealth(policy)).toThrow(new RegExp(`health policy: ${field} must be`));
    }
    try {
      new LineHealth({ minAttempts: 0 });
    } catch (error) {
      expect(error).toMatchObject({ name: 'InvalidHealthPolicyError', code: 'invalid_health_policy' });
    }
  });

  it('takes a partial policy over the defaults', () => {
    const health = new LineHealth({ minAttempts: 5 });
    expect(feed(health, times('no_answer', 5), T0).changes[0]?.reason).toBe('dead_line');
  });

  it('restores an ejected line: the cooldown runs from sinceMs, or from the first time it is told', () => {
    const known = new LineHealth(DEFAULT_HEALTH_POLICY, { state: 'ejected', sinceMs: T0 });
    expect(known.nextTransitionAtMs()).toBe(T0 + 60_000);
    expect(known.tick(T0 + 60_000)?.to).toBe('probing');
    const unknown = new LineHealth(DEFAULT_HEALTH_POLICY, { state: 'ejected' });
    expect(unknown.nextTransitionAtMs()).toBeNull();
    expect(unknown.tick(T0)).toBeNull();
    expect(unknown.nextTransitionAtMs()).toBe(T0 + 60_000);
    expect(() => new LineHealth(DEFAULT_HEALTH_POLICY, { state: 'sick' as never })).toThrow(
      InvalidHealthPolicyError,
    );
  });

  it('reports the window, its answer rate and the baseline', () => {
    const health = new LineHealth();
    expect(health.stats(T0)).toEqual({
      window: { attempts: 0, answered: 0, failures: 0, notDialed: 0, inconclusive: 0 },
      answerRate: undefined,
      baseline: undefined,
    });
    feed(health, ['answered', 'busy', 'network_failure', 'not_dialed', 'unknown'], T0);
    expect(health.stats(T0 + 1_000)).toEqual({
      window: { attempts: 3, answered: 1, failures: 1, notDialed: 1, inconclusive: 1 },
      answerRate: 1 / 3,
      baseline: undefined,
    });
  });

  it('keeps its invariants for random outcome streams, ticks and overrides (property)', () => {
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('record' as const),
        outcome: fc.constantFrom(...OUTCOMES),
        gapMs: fc.integer({ min: 0, max: 20_000 }),
      }),
      fc.record({ kind: fc.constant('tick' as const), gapMs: fc.integer({ min: 0, max: 700_000 }) }),
      fc.record({
        kind: fc.constant('override' as const),
        override: fc.constantFrom('in' as const, 'out' as const, null),
        gapMs: fc.constant(0),
      }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 400 }), (steps) => {
        const health = new LineHealth({ minAttempts: 5, probeAttempts: 3, baselineMinAttempts: 10 });
        let now = T0;
        for (const s of steps) {
          now += s.gapMs;
          const before = health.state;
          const change =
            s.kind === 'record'
              ? health.record(s.outcome, now)
              : s.kind === 'tick'
                ? health.tick(now)
                : health.setOverride(s.override, now);
          if (change) {
            expect(change.from).toBe(before);
            expect(change.to).toBe(health.state);
            expect(change.atMs).toBe(now);
            expect(change.override).toBe(health.override);
            if (change.from !== change.to) expect(HEALTH_TRANSITIONS[change.from]).toContain(change.to);
            if (change.to === 'ejected' && change.from !== 'ejected') {
              expect(change.cooldownMs).toBeGreaterThanOrEqual(60_000);
              expect(change.cooldownMs).toBeLessThanOrEqual(600_000);
            }
          } else {
            expect(health.state).toBe(before);
          }
          const admission = health.admission(now);
          const expectedShare =
            health.override === 'out'
              ? 0
              : health.override === 'in'
                ? 1
                : { healthy: 1, probing: 0.1, ejected: 0 }[health.state];
          expect(admission.capsShare).toBe(expectedShare);
          expect(admission.usable).toBe(expectedShare > 0);
          expect(admission.state).toBe(health.state);
          expect(health.nextTransitionAtMs() !== null).toBe(health.state === 'ejected');
        }
      }),
      { numRuns: 300 },
    );
  });
});
