import type { Outcome } from './outcome.js';
import { assertTransition, type TransitionTable } from './state-machine.js';

/**
 * A task is one number to reach for a campaign (R1.5).
 * - `queued`: in its campaign's queue, due at `notBefore`;
 * - `dialing`: taken by the scheduler (optimistic lock on status + version, R3.7), one attempt live;
 * - `completed`: a final outcome was reached (`outcome` says which, `unknown` included);
 * - `expired`: its deadline passed before a final outcome;
 * - `cancelled`: by the business, or with its campaign.
 */
export const TASK_STATUSES = ['queued', 'dialing', 'completed', 'expired', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_TASK_STATUSES: readonly TaskStatus[] = ['completed', 'expired', 'cancelled'];

export const TASK_TRANSITIONS: TransitionTable<TaskStatus> = {
  queued: ['dialing', 'expired', 'cancelled'],
  dialing: ['queued', 'completed', 'expired'],
  completed: [],
  expired: [],
  cancelled: [],
};

export function assertTaskTransition(from: TaskStatus, to: TaskStatus): void {
  assertTransition('task', TASK_TRANSITIONS, from, to);
}

export function isTerminalTaskStatus(status: TaskStatus): boolean {
  return TERMINAL_TASK_STATUSES.includes(status);
}

export interface Task {
  id: string;
  tenantId: string;
  campaignId: string;
  /** Encrypted at rest; the plaintext exists only while dialing. */
  numberMasked: string;
  variables: Record<string, string>;
  priority: number;
  notBefore: number;
  expiresAt: number | null;
  status: TaskStatus;
  version: number;
  /** Attempts that reached the network (not counting `not_dialed`). */
  attemptCount: number;
  /** Consecutive `not_dialed` attempts since the last real one: drives the fail-over backoff. */
  notDialedCount: number;
  outcome: Outcome | null;
  externalRef: string | null;
  createdAt: number;
  updatedAt: number;
}
