import type { Outcome } from './outcome.js';
import type { TaskStatus } from './task.js';

export interface RetryPolicy {
  /** Attempts that reached the network, at most. */
  maxAttempts: number;
  /** Delay before the next attempt after each retryable callee outcome, in seconds. */
  retryDelaySec: Partial<Record<Outcome, number>>;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 1,
  retryDelaySec: { busy: 300, no_answer: 900, network_failure: 60, rejected: 3600 },
};

/** Callee outcomes that a campaign may retry; everything else is final. */
const RETRYABLE: ReadonlySet<Outcome> = new Set(['busy', 'no_answer', 'network_failure', 'rejected']);

export interface AttemptEnd {
  outcome: Outcome;
  nowMs: number;
  /** Network attempts already counted, including this one if it reached the network. */
  attemptCount: number;
  /** Consecutive not_dialed ends, including this one if it is one. */
  notDialedCount: number;
  expiresAt: number | null;
  policy: RetryPolicy;
}

export type NextStep =
  | { status: Extract<TaskStatus, 'queued'>; notBefore: number }
  | { status: Extract<TaskStatus, 'completed' | 'expired'>; outcome: Outcome };

/** Fail-over after a `not_dialed` is immediate the first time, then backs off so a dead pool can't spin. */
export function notDialedBackoffMs(consecutive: number): number {
  if (consecutive <= 1) return 0;
  return Math.min(30_000, 250 * 2 ** (consecutive - 2));
}

/**
 * What happens to a task after one of its attempts ends (R3.6): `not_dialed` goes back at once
 * (another resource will be chosen), `answered` and `unknown` are never dialed again
 * automatically, other callee outcomes follow the campaign's policy, and nothing is scheduled
 * past the task's expiry.
 */
export function nextStepAfterAttempt(end: AttemptEnd): NextStep {
  const { outcome, nowMs, expiresAt } = end;
  let notBefore: number;
  if (outcome === 'not_dialed') {
    notBefore = nowMs + notDialedBackoffMs(end.notDialedCount);
  } else if (RETRYABLE.has(outcome) && end.attemptCount < end.policy.maxAttempts) {
    notBefore = nowMs + (end.policy.retryDelaySec[outcome] ?? 0) * 1000;
  } else {
    return { status: 'completed', outcome };
  }
  if (expiresAt !== null && notBefore >= expiresAt) {
    return { status: 'expired', outcome };
  }
  return { status: 'queued', notBefore };
}
