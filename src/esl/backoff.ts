/**
 * Reconnect delays: exponential backoff with full jitter (delay = random × min(max, min × 2^attempt)),
 * so a fleet of workers that lost the same switch does not reconnect in lockstep.
 */
export interface BackoffPolicy {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

export function fullJitterDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** Math.min(attempt, 30));
  const r = random();
  const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
  return Math.round(unit * ceiling);
}
