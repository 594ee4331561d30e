/**
 * How an attempt ended, in the users' words (ARCHITECTURE.md decision 3).
 *
 * - `not_dialed`: provably never reached the network (the switch refused, was down, over its
 *   limit, unknown gateway). Safe to dispatch again at once on another resource; it does not count
 *   as an attempt on the callee.
 * - callee outcomes: the network carried the call and the callee side answered or refused it.
 *   Retried only by the campaign's policy.
 * - `unknown`: evidence lost (crash, lost reply). Never re-dialed automatically.
 */
export const OUTCOMES = [
  'answered',
  'busy',
  'no_answer',
  'rejected',
  'invalid_number',
  'network_failure',
  'not_dialed',
  'cancelled',
  'unknown',
] as const;

export type Outcome = (typeof OUTCOMES)[number];

export interface OutcomeVerdict {
  outcome: Outcome;
  /** True when the call may have rung the callee's phone: it must then never be blindly retried. */
  mayHaveReachedCallee: boolean;
}

export function isOutcome(value: string): value is Outcome {
  return (OUTCOMES as readonly string[]).includes(value);
}
