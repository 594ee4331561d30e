/**
 * CAPS pacing: "at most N call attempts in any window of one second" — exactly, smoothly, and
 * without losing capacity when the scheduler wakes a little late.
 *
 * Two rules, both must allow a call:
 * - **GCRA** (the generic cell rate algorithm): calls follow a schedule spaced by the emission
 *   interval T = W/N. A caller late by L ≤ τ (the tolerance) keeps its place in the schedule and
 *   catches up, instead of restarting the schedule from now and losing those calls for good
 *   (measured: strict restarting lost half the capacity of a 1,000-CAPS platform to timer
 *   lateness).
 * - **A sliding log** of the last N grant times: a call is allowed only if fewer than N were
 *   granted in the last W ms. This keeps the count exact whatever the tolerance does: GCRA alone
 *   with tolerance τ admits 1 + (W + τ)/T calls in a window, i.e. more than N.
 *
 * W is one second plus `guardMs`, so that jitter between our send time and the switch's receive
 * time cannot make the switch count N + 1 in its own second.
 */
export interface PaceState {
  /** Theoretical arrival time of the next call on schedule, epoch ms. */
  tat: number;
  /**
   * Grants, oldest first, from `head` on (older entries are dropped lazily). A grant's time moves
   * to when its originate was actually written (see `DialSlots.markSent`), so the window is
   * counted in send time — what the switch sees — rather than decision time.
   */
  grants: PaceGrant[];
  head: number;
}

export interface PaceGrant {
  atMs: number;
}

export interface PaceRule {
  capsPerSecond: number;
  windowMs: number;
  toleranceMs: number;
}

/** Calls allowed in one window: a fractional rate (slow start) still allows one, paced by GCRA. */
function windowCapacity(capsPerSecond: number): number {
  return Math.max(1, Math.floor(capsPerSecond));
}

function dropExpired(state: PaceState, nowMs: number, windowMs: number): void {
  const { grants } = state;
  while (state.head < grants.length && grants[state.head]!.atMs <= nowMs - windowMs) state.head++;
  if (state.head > 1024 && state.head * 2 > grants.length) {
    grants.splice(0, state.head);
    state.head = 0;
  }
}

/** When the next call may start under this rule (≤ nowMs means now). */
export function paceAllowedAt(state: PaceState | undefined, rule: PaceRule, nowMs: number): number {
  if (!state) return Number.NEGATIVE_INFINITY;
  dropExpired(state, nowMs, rule.windowMs);
  const capacity = windowCapacity(rule.capsPerSecond);
  const inWindow = state.grants.length - state.head;
  // The window is full until the grant that made it full leaves it.
  const byWindow =
    inWindow < capacity
      ? Number.NEGATIVE_INFINITY
      : state.grants[state.grants.length - capacity]!.atMs + rule.windowMs;
  return Math.max(state.tat, byWindow);
}

/**
 * Records a grant at `nowMs` (the caller checked `paceAllowedAt(...) <= nowMs`); returns the
 * state and the grant, whose time the caller moves on to the actual send time.
 */
export function paceGrant(
  state: PaceState | undefined,
  rule: PaceRule,
  nowMs: number,
): { state: PaceState; grant: PaceGrant } {
  const next = state ?? { tat: nowMs, grants: [], head: 0 };
  // Lateness up to the tolerance stays owed: the schedule does not restart from now.
  next.tat = Math.max(next.tat, nowMs - rule.toleranceMs) + rule.windowMs / rule.capsPerSecond;
  const grant = { atMs: nowMs };
  next.grants.push(grant);
  return { state: next, grant };
}
