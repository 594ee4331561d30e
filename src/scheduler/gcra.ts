/**
 * Pace limiting with the Generic Cell Rate Algorithm, reduced to its exact, burst-free form:
 * one call per emission interval. "At most N call attempts in any one-second window" then holds
 * for every half-open window [t, t+1s), including during fail-over, because consecutive grants
 * are never closer than 1/N s. A burst tolerance would let a window hold up to 2N-1, which is
 * exactly what a carrier's CAPS limit punishes.
 *
 * `guardMs` widens the window a little (emission interval = (1000 + guard) / N ms) so that
 * scheduling jitter between our clock and the switch's receive time cannot make the switch count
 * N+1 in its own second.
 */
export interface PaceState {
  /** Theoretical arrival time of the next conforming call, epoch ms. */
  tat: number;
}

export function emissionIntervalMs(capsPerSecond: number, guardMs: number): number {
  return (1000 + guardMs) / capsPerSecond;
}

/** When the next call may start under this pace, given its state. */
export function paceAllowedAt(state: PaceState | undefined): number {
  return state?.tat ?? Number.NEGATIVE_INFINITY;
}

/** The state after granting one call at `nowMs` (the caller has checked `nowMs >= paceAllowedAt`). */
export function paceAfterGrant(state: PaceState | undefined, nowMs: number, intervalMs: number): PaceState {
  const tat = Math.max(state?.tat ?? nowMs, nowMs);
  return { tat: tat + intervalMs };
}
