import type { Campaign, Gateway, Line } from './resources.js';

/**
 * A fully resourced task, handed from the scheduler to a worker (R3.8): the attempt is recorded,
 * its UUID assigned, and the slots on every level it uses are held under `attemptId`.
 */
export interface DialOrder {
  attemptId: string;
  taskId: string;
  tenantId: string;
  campaign: Pick<Campaign, 'id' | 'retryPolicy' | 'ringTimeoutSec' | 'maxCallDurationSec'>;
  line: Pick<Line, 'id' | 'dialTemplate' | 'numberFormat'>;
  gateway: Pick<Gateway, 'id' | 'name'>;
  switchId: string;
  callerId: string | null;
  numberSealed: string;
  numberMasked: string;
  variables: Record<string, string>;
  /** Task counters before this attempt, for the retry decision when it ends. */
  taskAttemptCount: number;
  taskNotDialedCount: number;
  taskExpiresAt: number | null;
  dispatchedAtMs: number;
}

/** The worker's side of the hand-off, as the scheduler sees it. */
export interface DialPort {
  /** Whether the worker holds a working connection to this switch right now (R3.9). */
  isSwitchUsable(switchId: string): boolean;
  /** How many more calls it can take now (never hand it more). */
  spareCapacity(): number;
  dial(order: DialOrder): void;
}
