import type { Outcome } from '../domain/outcome.js';
import { assertTransition, type TransitionTable } from '../domain/state-machine.js';
import { type MinuteCounts, OutcomeWindow } from './line-stats.js';

/**
 * Health of a line (or gateway), R3.10: a line whose answer rate collapses against its own
 * baseline, or whose network failures spike, is taken out at once, probed half-open after a
 * cooldown, and readmitted when the probe looks like its old self.
 *
 * - `healthy`: in service at its full CAPS; judged over the last `windowMinutes`.
 * - `ejected`: out of service until its cooldown ends (doubling per consecutive ejection).
 * - `probing`: in service at `probeCapsShare` of its CAPS until `probeAttempts` results decide.
 *
 * An operator override sits on top: forced out is never used, forced in is always used at full
 * CAPS. The automatic machine keeps running underneath, so clearing the override hands the line
 * back to whatever the automatic state is by then.
 *
 * Pure: time is a parameter; nothing happens between calls. `tick` applies time-driven changes,
 * and `admission` reports the state as of the last call (it changes nothing).
 */

export const HEALTH_STATES = ['healthy', 'ejected', 'probing'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];
export type HealthOverride = 'in' | 'out' | null;

export const HEALTH_TRANSITIONS: TransitionTable<HealthState> = {
  healthy: ['ejected'],
  ejected: ['probing'],
  probing: ['healthy', 'ejected'],
};

export function assertHealthTransition(from: HealthState, to: HealthState): void {
  assertTransition('line health', HEALTH_TRANSITIONS, from, to);
}

export interface HealthPolicy {
  /** Judge over the last N minutes. */
  windowMinutes: number;
  /** No verdict below this many attempts in the window. */
  minAttempts: number;
  /** Eject when answer rate < baseline × ratio. */
  collapseRatio: number;
  /** Eject when failures / attempts > share. */
  failureShare: number;
  /** ejected → probing after this, doubling per consecutive ejection up to maxCooldownMs. */
  cooldownMs: number;
  maxCooldownMs: number;
  /** Results needed while probing. */
  probeAttempts: number;
  /** probing → healthy if answer rate ≥ baseline × ratio and failure share < failureShare. */
  readmitRatio: number;
  /** While probing, the line runs at this share of its CAPS. */
  probeCapsShare: number;
  /**
   * With no baseline yet, a line is dead below this answer rate (after minAttempts), so a line
   * that never worked is still ejected; a probe without a baseline must reach it to readmit.
   */
  answerRateFloor?: number;
  /** Minutes of healthy history the baseline is drawn from. */
  baselineMinutes?: number;
  /** Attempts that history must hold before it is a baseline. */
  baselineMinAttempts?: number;
  /**
   * A window (or a probe) is read as the line's own rate only once it holds this many settled
   * calls per call still unsettled on the line. Before that it is young: fast failures settle in
   * a second while answers come after ringing, so its unsettled calls are counted in the line's
   * favour (as answered, and not failed), and it is ejected only if even that reading fails.
   */
  settledPerUnsettled?: number;
}

export const DEFAULT_HEALTH_POLICY: Readonly<Required<HealthPolicy>> = Object.freeze({
  windowMinutes: 2,
  minAttempts: 20,
  collapseRatio: 0.3,
  failureShare: 0.5,
  cooldownMs: 60_000,
  maxCooldownMs: 600_000,
  probeAttempts: 10,
  readmitRatio: 0.6,
  probeCapsShare: 0.1,
  answerRateFloor: 0.05,
  baselineMinutes: 30,
  baselineMinAttempts: 50,
  settledPerUnsettled: 2,
});

export type HealthChangeReason =
  | 'answer_rate_collapse'
  | 'failure_spike'
  | 'dead_line'
  | 'cooldown_elapsed'
  | 'probe_passed'
  | 'probe_failed'
  | 'override_in'
  | 'override_out'
  | 'override_cleared';

/** One logged change. An override change keeps `from` = `to` (the automatic state) and says so in `override`. */
export interface HealthChange {
  from: HealthState;
  to: HealthState;
  atMs: number;
  reason: HealthChangeReason;
  /** The override in force after the change. */
  override: HealthOverride;
  answerRate?: number;
  baseline?: number;
  failureShare?: number;
  attempts?: number;
  /** Calls still unsettled, counted in the line's favour because the window was young. */
  unsettled?: number;
  /** On an ejection: how long until probing. */
  cooldownMs?: number;
}

export interface HealthAdmission {
  usable: boolean;
  capsShare: number;
  state: HealthState;
  reason: string;
}

export class InvalidHealthPolicyError extends Error {
  override readonly name = 'InvalidHealthPolicyError';
  readonly code = 'invalid_health_policy';
}

type Verdict = Pick<HealthChange, 'answerRate' | 'baseline' | 'failureShare' | 'attempts' | 'unsettled'>;

function resolvePolicy(policy: Partial<HealthPolicy>): Required<HealthPolicy> {
  const resolved = { ...DEFAULT_HEALTH_POLICY, ...policy };
  const check = (field: keyof HealthPolicy, ok: (value: number) => boolean, expected: string) => {
    const value = resolved[field];
    if (typeof value !== 'number' || !ok(value))
      throw new InvalidHealthPolicyError(`health policy: ${field} must be ${expected}, got ${String(value)}`);
  };
  const integerFrom = (min: number) => (v: number) => Number.isInteger(v) && v >= min;
  const share = (v: number) => v > 0 && v <= 1;
  check('windowMinutes', (v) => integerFrom(1)(v) && v <= 60, 'an integer from 1 to 60');
  check('minAttempts', integerFrom(1), 'an integer ≥ 1');
  check('collapseRatio', share, 'in (0, 1]');
  check('failureShare', share, 'in (0, 1]');
  check('cooldownMs', (v) => Number.isFinite(v) && v > 0, 'a positive number of ms');
  check('maxCooldownMs', (v) => Number.isFinite(v) && v >= resolved.cooldownMs, '≥ cooldownMs');
  check('probeAttempts', integerFrom(1), 'an integer ≥ 1');
  check('readmitRatio', share, 'in (0, 1]');
  check('probeCapsShare', share, 'in (0, 1]');
  check('answerRateFloor', (v) => v >= 0 && v < 1, 'in [0, 1)');
  check('baselineMinutes', (v) => integerFrom(1)(v) && v <= 24 * 60, 'an integer from 1 to 1440');
  check('baselineMinAttempts', integerFrom(1), 'an integer ≥ 1');
  check('settledPerUnsettled', (v) => Number.isFinite(v) && v >= 0, 'a number ≥ 0');
  return resolved;
}

function isAttempt(outcome: Outcome): boolean {
  return outcome !== 'not_dialed' && outcome !== 'cancelled' && outcome !== 'unknown';
}

export class LineHealth {
  private readonly policy: Required<HealthPolicy>;
  /** Every outcome, for stats. */
  private readonly recent: OutcomeWindow;
  /**
   * Outcomes while healthy only, less the minutes that got the line ejected: the verdict window
   * and the baseline. A line is judged against its own healthy self, and after readmission it is
   * not judged again on the minutes it was already ejected for.
   */
  private readonly history: OutcomeWindow;
  private currentState: HealthState;
  private currentOverride: HealthOverride;
  private ejectionReason: HealthChangeReason | null = null;
  /** When an ejected line starts probing; null until a time is known (restored as ejected without sinceMs). */
  private probeAtMs: number | null = null;
  private consecutiveEjections = 0;
  private readmittedAtMs: number | null = null;
  private probeCounts = { attempts: 0, answered: 0, failures: 0 };
  /**
   * The baseline when the line was last ejected. A probe is judged against it: history stands still
   * while the line is out, and an ejection of several minutes would otherwise let it age away.
   */
  private baselineAtEjection: number | undefined;

  constructor(
    policy: Partial<HealthPolicy> = DEFAULT_HEALTH_POLICY,
    initial: { state?: HealthState; override?: HealthOverride; sinceMs?: number } = {},
  ) {
    this.policy = resolvePolicy(policy);
    this.recent = new OutcomeWindow({ minutes: this.policy.windowMinutes });
    this.history = new OutcomeWindow({ minutes: this.policy.windowMinutes + this.policy.baselineMinutes });
    const state = initial.state ?? 'healthy';
    if (!HEALTH_STATES.includes(state))
      throw new InvalidHealthPolicyError(`line health: unknown state ${state}`);
    this.currentState = state;
    this.currentOverride = checkOverride(initial.override ?? null);
    if (state === 'ejected') {
      this.consecutiveEjections = 1;
      if (initial.sinceMs !== undefined) this.probeAtMs = initial.sinceMs + this.policy.cooldownMs;
    }
  }

  get state(): HealthState {
    return this.currentState;
  }

  get override(): HealthOverride {
    return this.currentOverride;
  }

  /**
   * Feed every settled attempt of the line (answered, or ended otherwise); not_dialed, cancelled
   * and unknown say nothing about it. `unsettled`: the line's calls placed and not settled yet.
   */
  record(outcome: Outcome, nowMs: number, unsettled = 0): HealthChange | null {
    this.recent.record(outcome, nowMs);
    if (!isAttempt(outcome)) return null;
    switch (this.currentState) {
      case 'healthy':
        this.history.record(outcome, nowMs);
        return this.judgeHealthy(nowMs, unsettled);
      case 'probing':
        this.probeCounts.attempts++;
        if (outcome === 'answered') this.probeCounts.answered++;
        if (outcome === 'network_failure') this.probeCounts.failures++;
        return this.probeCounts.attempts >= this.policy.probeAttempts
          ? this.judgeProbe(nowMs, unsettled)
          : null;
      case 'ejected':
        // Calls placed before the ejection, or while forced in: they do not decide anything.
        this.startCooldownIfUnknown(nowMs);
        return null;
    }
  }

  /** Time-driven transitions: ejected → probing once the cooldown has passed. */
  tick(nowMs: number): HealthChange | null {
    if (this.currentState !== 'ejected') return null;
    this.startCooldownIfUnknown(nowMs);
    if (this.probeAtMs === null || nowMs < this.probeAtMs) return null;
    this.probeCounts = { attempts: 0, answered: 0, failures: 0 };
    this.probeAtMs = null;
    return this.transition('probing', nowMs, 'cooldown_elapsed', {});
  }

  setOverride(override: HealthOverride, nowMs: number): HealthChange | null {
    checkOverride(override);
    if (override === this.currentOverride) return null;
    this.currentOverride = override;
    const reason =
      override === 'in' ? 'override_in' : override === 'out' ? 'override_out' : 'override_cleared';
    return { from: this.currentState, to: this.currentState, atMs: nowMs, reason, override };
  }

  /** Whether dispatch may use the line now, and at what share of its CAPS. */
  admission(_nowMs: number): HealthAdmission {
    const state = this.currentState;
    if (this.currentOverride === 'out')
      return {
        usable: false,
        capsShare: 0,
        state,
        reason: `forced out by an operator (automatic state ${state})`,
      };
    if (this.currentOverride === 'in')
      return {
        usable: true,
        capsShare: 1,
        state,
        reason: `forced in by an operator (automatic state ${state})`,
      };
    switch (state) {
      case 'healthy':
        return { usable: true, capsShare: 1, state, reason: 'healthy' };
      case 'probing':
        return {
          usable: true,
          capsShare: this.policy.probeCapsShare,
          state,
          reason: `probing: ${this.probeCounts.attempts} of ${this.policy.probeAttempts} results`,
        };
      case 'ejected': {
        const until =
          this.probeAtMs === null ? '' : `, probing from ${new Date(this.probeAtMs).toISOString()}`;
        return {
          usable: false,
          capsShare: 0,
          state,
          reason: `ejected (${this.ejectionReason ?? 'restored'})${until}`,
        };
      }
    }
  }

  /** When the state may next change by time alone (for the scheduler's wake-up), or null. */
  nextTransitionAtMs(): number | null {
    return this.currentState === 'ejected' ? this.probeAtMs : null;
  }

  stats(nowMs: number): {
    window: MinuteCounts;
    answerRate: number | undefined;
    baseline: number | undefined;
  } {
    const window = this.recent.totals(nowMs, this.policy.windowMinutes);
    return {
      window,
      answerRate: window.attempts > 0 ? window.answered / window.attempts : undefined,
      baseline: this.currentState === 'healthy' ? this.baseline(nowMs) : this.baselineAtEjection,
    };
  }

  private baseline(nowMs: number): number | undefined {
    return this.history.baselineAnswerRate(nowMs, {
      excludeRecentMinutes: this.policy.windowMinutes,
      minutes: this.policy.baselineMinutes,
      minAttempts: this.policy.baselineMinAttempts,
    });
  }

  /**
   * The rates a verdict reads: the window's own once it is mature, else with the unsettled calls
   * counted in the line's favour (a young window is judged on what it could still turn out to be).
   */
  private reading(
    counts: { attempts: number; answered: number; failures: number },
    unsettled: number,
  ): Verdict & { answerRate: number; failureShare: number } {
    const { attempts, answered, failures } = counts;
    const young = attempts < this.policy.settledPerUnsettled * unsettled;
    const pending = young ? unsettled : 0;
    return {
      answerRate: (answered + pending) / (attempts + pending),
      failureShare: failures / (attempts + pending),
      attempts,
      ...(young ? { unsettled } : {}),
    };
  }

  private judgeHealthy(nowMs: number, unsettled: number): HealthChange | null {
    const counts = this.history.totals(nowMs, this.policy.windowMinutes);
    if (counts.attempts < this.policy.minAttempts) return null;
    const baseline = this.baseline(nowMs);
    const reading = this.reading(counts, unsettled);
    const { answerRate, failureShare } = reading;
    const verdict: Verdict = { ...reading, ...(baseline === undefined ? {} : { baseline }) };
    let reason: HealthChangeReason | null = null;
    if (failureShare > this.policy.failureShare) reason = 'failure_spike';
    else if (baseline !== undefined && answerRate < baseline * this.policy.collapseRatio)
      reason = 'answer_rate_collapse';
    else if (baseline === undefined && answerRate < this.policy.answerRateFloor) reason = 'dead_line';
    if (reason === null) return null;
    // Drop the minutes it is ejected for: they must neither drag the baseline down nor be judged again.
    this.history.forgetRecent(nowMs, this.policy.windowMinutes);
    this.baselineAtEjection = baseline;
    const flapping = this.readmittedAtMs !== null && nowMs - this.readmittedAtMs < this.policy.maxCooldownMs;
    this.consecutiveEjections = flapping ? this.consecutiveEjections + 1 : 1;
    return this.eject(nowMs, reason, verdict);
  }

  /**
   * A probe is judged on its own results since the probe began, against the baseline at ejection.
   * While young (see `settledPerUnsettled`) it can fail, if even the favourable reading fails, but
   * not pass: it waits for more results.
   */
  private judgeProbe(nowMs: number, unsettled: number): HealthChange | null {
    const reading = this.reading(this.probeCounts, unsettled);
    const { answerRate, failureShare } = reading;
    const baseline = this.baselineAtEjection;
    const needed = baseline === undefined ? this.policy.answerRateFloor : baseline * this.policy.readmitRatio;
    const verdict: Verdict = { ...reading, ...(baseline === undefined ? {} : { baseline }) };
    const passes = answerRate >= needed && failureShare < this.policy.failureShare;
    if (passes && reading.unsettled !== undefined) return null;
    if (passes) {
      this.readmittedAtMs = nowMs;
      return this.transition('healthy', nowMs, 'probe_passed', verdict);
    }
    this.consecutiveEjections++;
    return this.eject(nowMs, 'probe_failed', verdict);
  }

  private eject(nowMs: number, reason: HealthChangeReason, verdict: Verdict): HealthChange {
    const cooldownMs = Math.min(
      this.policy.cooldownMs * 2 ** (this.consecutiveEjections - 1),
      this.policy.maxCooldownMs,
    );
    const change = this.transition('ejected', nowMs, reason, { ...verdict, cooldownMs });
    this.ejectionReason = reason;
    this.probeAtMs = nowMs + cooldownMs;
    return change;
  }

  private startCooldownIfUnknown(nowMs: number): void {
    if (this.probeAtMs === null) this.probeAtMs = nowMs + this.policy.cooldownMs;
  }

  private transition(
    to: HealthState,
    nowMs: number,
    reason: HealthChangeReason,
    details: Verdict & { cooldownMs?: number },
  ): HealthChange {
    assertHealthTransition(this.currentState, to);
    const change: HealthChange = {
      from: this.currentState,
      to,
      atMs: nowMs,
      reason,
      override: this.currentOverride,
      ...details,
    };
    this.currentState = to;
    return change;
  }
}

function checkOverride(override: HealthOverride): HealthOverride {
  if (override !== 'in' && override !== 'out' && override !== null)
    throw new InvalidHealthPolicyError(
      `line health: override must be 'in', 'out' or null, got ${String(override)}`,
    );
  return override;
}
