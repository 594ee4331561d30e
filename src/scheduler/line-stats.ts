import type { Outcome } from '../domain/outcome.js';

/**
 * Per-minute outcome counts of one resource (a line or a gateway), the raw material of
 * answer-rate-first selection (R3.8) and of line health (R3.10).
 *
 * What counts as an attempt: an outcome that says something about the carrier. `not_dialed` never
 * left our switch (counted apart); `cancelled` was our own doing and `unknown` lost its evidence, so
 * both are `inconclusive` and stay out of the answer rate either way.
 */
export interface MinuteCounts {
  /** Calls the network carried: answered, busy, no_answer, rejected, invalid_number, network_failure. */
  attempts: number;
  answered: number;
  /** `network_failure` outcomes: carrier congestion, 503-like causes, network out of order. */
  failures: number;
  /** Never reached the network; not in `attempts`. */
  notDialed: number;
  /** `cancelled` and `unknown`: not in `attempts`. */
  inconclusive: number;
}

export interface BaselineOptions {
  /** How many complete minutes, older than the excluded recent ones, to look at (default: all kept). */
  minutes?: number;
  /** Below this many attempts over those minutes there is no baseline (default 50). */
  minAttempts?: number;
  /** Most recent minutes left out, the current partial one included (default 1): the span being judged. */
  excludeRecentMinutes?: number;
  /** Age, in minutes, at which a minute weighs half as much (default 15). */
  halfLifeMinutes?: number;
}

const MINUTE_MS = 60_000;
const DEFAULT_MINUTES_KEPT = 60;
const DEFAULT_BASELINE_MIN_ATTEMPTS = 50;
const DEFAULT_HALF_LIFE_MINUTES = 15;

// Column of each count in a bucket's slice of the typed array.
const ATTEMPTS = 0;
const ANSWERED = 1;
const FAILURES = 2;
const NOT_DIALED = 3;
const INCONCLUSIVE = 4;
const COLUMNS = 5;

function checkMinutes(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
}

/**
 * A ring of per-minute buckets, each tagged with the minute it holds. A bucket is cleared lazily
 * when a newer minute reuses it, and sums skip buckets whose tag is outside the span asked for, so
 * a gap of any length costs nothing. record() is O(1) and allocates nothing; sums are O(minutes).
 */
export class OutcomeWindow {
  readonly minutesKept: number;
  private readonly counts: Float64Array;
  /** The minute (epoch ms / 60 000, floored) each bucket holds; NaN when never used. */
  private readonly bucketMinute: Float64Array;

  constructor(options: { minutes?: number } = {}) {
    this.minutesKept = options.minutes ?? DEFAULT_MINUTES_KEPT;
    checkMinutes('minutes', this.minutesKept, 1, 24 * 60);
    this.counts = new Float64Array(this.minutesKept * COLUMNS);
    this.bucketMinute = new Float64Array(this.minutesKept).fill(Number.NaN);
  }

  record(outcome: Outcome, nowMs: number): void {
    const minute = Math.floor(nowMs / MINUTE_MS);
    const slot = this.slotOf(minute);
    const held = this.bucketMinute[slot] as number;
    // A late report for a minute the ring has already reused is dropped, not added to a newer minute.
    if (held > minute) return;
    if (held !== minute) {
      this.counts.fill(0, slot * COLUMNS, slot * COLUMNS + COLUMNS);
      this.bucketMinute[slot] = minute;
    }
    const base = slot * COLUMNS;
    switch (outcome) {
      case 'answered':
        this.increment(base + ATTEMPTS);
        this.increment(base + ANSWERED);
        break;
      case 'network_failure':
        this.increment(base + ATTEMPTS);
        this.increment(base + FAILURES);
        break;
      case 'busy':
      case 'no_answer':
      case 'rejected':
      case 'invalid_number':
        this.increment(base + ATTEMPTS);
        break;
      case 'not_dialed':
        this.increment(base + NOT_DIALED);
        break;
      case 'cancelled':
      case 'unknown':
        this.increment(base + INCONCLUSIVE);
        break;
    }
  }

  /** Sums over the last `minutes` minute buckets ending at nowMs (the current, partial one included). */
  totals(nowMs: number, minutes: number): MinuteCounts {
    checkMinutes('minutes', minutes, 1, this.minutesKept);
    const current = Math.floor(nowMs / MINUTE_MS);
    const sums = { attempts: 0, answered: 0, failures: 0, notDialed: 0, inconclusive: 0 };
    for (let minute = current - minutes + 1; minute <= current; minute++) {
      const slot = this.slotOf(minute);
      if (this.bucketMinute[slot] !== minute) continue;
      const base = slot * COLUMNS;
      sums.attempts += this.counts[base + ATTEMPTS]!;
      sums.answered += this.counts[base + ANSWERED]!;
      sums.failures += this.counts[base + FAILURES]!;
      sums.notDialed += this.counts[base + NOT_DIALED]!;
      sums.inconclusive += this.counts[base + INCONCLUSIVE]!;
    }
    return sums;
  }

  /**
   * Answer rate over the last `minutes`, smoothed toward `prior` with `priorWeight` pseudo-attempts:
   * (answered + prior·w) / (attempts + w). A line with little history then sits near the prior
   * instead of at 0 or 1 after its first few calls.
   */
  smoothedAnswerRate(nowMs: number, minutes: number, prior: number, priorWeight: number): number {
    const { attempts, answered } = this.totals(nowMs, minutes);
    const denominator = attempts + priorWeight;
    return denominator > 0 ? (answered + prior * priorWeight) / denominator : prior;
  }

  /**
   * The line's usual answer rate, against which a collapse is judged: complete minutes older than
   * the span being judged, weighted by their attempts and by an exponential decay with age, i.e.
   * Σ d^age·answered / Σ d^age·attempts. Weighting by attempts keeps a quiet minute with two calls
   * from swinging it; the decay lets it follow a slow drift (time of day). Undefined below
   * `minAttempts` attempts in the span.
   */
  baselineAnswerRate(nowMs: number, options: BaselineOptions = {}): number | undefined {
    const exclude = options.excludeRecentMinutes ?? 1;
    checkMinutes('excludeRecentMinutes', exclude, 1, this.minutesKept - 1);
    const minutes = options.minutes ?? this.minutesKept - exclude;
    checkMinutes('minutes', minutes, 1, this.minutesKept - exclude);
    const minAttempts = options.minAttempts ?? DEFAULT_BASELINE_MIN_ATTEMPTS;
    const halfLife = options.halfLifeMinutes ?? DEFAULT_HALF_LIFE_MINUTES;
    if (!(halfLife > 0)) throw new RangeError(`halfLifeMinutes must be positive, got ${halfLife}`);
    const decay = 0.5 ** (1 / halfLife);
    const newest = Math.floor(nowMs / MINUTE_MS) - exclude;
    let weight = 1;
    let attempts = 0;
    let weightedAttempts = 0;
    let weightedAnswered = 0;
    for (let minute = newest; minute > newest - minutes; minute--, weight *= decay) {
      const slot = this.slotOf(minute);
      if (this.bucketMinute[slot] !== minute) continue;
      const base = slot * COLUMNS;
      attempts += this.counts[base + ATTEMPTS]!;
      weightedAttempts += weight * this.counts[base + ATTEMPTS]!;
      weightedAnswered += weight * this.counts[base + ANSWERED]!;
    }
    if (attempts < minAttempts || weightedAttempts === 0) return undefined;
    return weightedAnswered / weightedAttempts;
  }

  /**
   * Forgets the last `minutes` minute buckets ending at nowMs. Line health drops the minutes that
   * got a line ejected, so that they neither pull its baseline down nor count against it again.
   */
  forgetRecent(nowMs: number, minutes: number): void {
    checkMinutes('minutes', minutes, 1, this.minutesKept);
    const current = Math.floor(nowMs / MINUTE_MS);
    for (let minute = current - minutes + 1; minute <= current; minute++) {
      const slot = this.slotOf(minute);
      if (this.bucketMinute[slot] !== minute) continue;
      this.counts.fill(0, slot * COLUMNS, slot * COLUMNS + COLUMNS);
    }
  }

  private increment(index: number): void {
    this.counts[index] = (this.counts[index] as number) + 1;
  }

  private slotOf(minute: number): number {
    return ((minute % this.minutesKept) + this.minutesKept) % this.minutesKept;
  }
}
