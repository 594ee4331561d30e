import type { Outcome } from './outcome.js';
import { assertTransition, type TransitionTable } from './state-machine.js';

/**
 * One try at reaching a task's number, named by its own UUID before anything is sent
 * (ARCHITECTURE decision 1: the UUID is the call's `origination_uuid`).
 * - `created`: recorded and resourced, originate not yet confirmed as sent;
 * - `originated`: the switch accepted the originate job;
 * - `ringing`: the far end signalled progress (180/183);
 * - `answered`: the callee picked up;
 * - `ended`: finished, with an outcome.
 */
export const ATTEMPT_STATUSES = ['created', 'originated', 'ringing', 'answered', 'ended'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

export const ATTEMPT_TRANSITIONS: TransitionTable<AttemptStatus> = {
  created: ['originated', 'ringing', 'answered', 'ended'],
  originated: ['ringing', 'answered', 'ended'],
  ringing: ['answered', 'ended'],
  answered: ['ended'],
  ended: [],
};

export function assertAttemptTransition(from: AttemptStatus, to: AttemptStatus): void {
  assertTransition('attempt', ATTEMPT_TRANSITIONS, from, to);
}

/** Later stages imply earlier ones: events may arrive out of order or be filtered, so skipping is allowed. */
export function attemptStageRank(status: AttemptStatus): number {
  return ATTEMPT_STATUSES.indexOf(status);
}

export interface Attempt {
  id: string;
  taskId: string;
  campaignId: string;
  tenantId: string;
  workerId: string;
  switchId: string;
  gatewayId: string;
  lineId: string;
  callerId: string | null;
  status: AttemptStatus;
  createdAt: number;
  originatedAt: number | null;
  ringingAt: number | null;
  answeredAt: number | null;
  endedAt: number | null;
  hangupCause: string | null;
  sipCode: number | null;
  outcome: Outcome | null;
  mayHaveReachedCallee: boolean | null;
}
