import type { Outcome } from './outcome.js';
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
  /**
   * The latest time the originate may be written (cluster: the leader counts an unreported grant
   * in its CAPS window at this time, so a later send could crowd a window). Past it, the worker
   * ends the call `not_dialed` instead. None: no deadline (one process, sends are reported).
   */
  sendByMs?: number;
}

/** The worker's side of the hand-off, as the scheduler sees it. */
export interface DialPort {
  /** Whether the worker holds a working connection to this switch right now (R3.9). */
  isSwitchUsable(switchId: string): boolean;
  /** How many more calls it can take now (never hand it more). */
  spareCapacity(): number;
  /** Hands the call over; `workerId` is what `assignWorker` chose for it, when the port assigns. */
  dial(order: DialOrder, workerId?: string): void;
  /**
   * Which worker will place a call on this switch (cluster: one of the live workers holding a
   * ready link to it); recorded on the attempt at claim time. Undefined: no worker can take it now.
   * A port that is one in-process worker leaves this out (its own id is used).
   */
  assignWorker?(switchId: string, attemptId: string): string | undefined;
  /** An assigned call that will not be handed over after all (its claim was lost). */
  assignmentDropped?(attemptId: string): void;
  /**
   * The store's open attempts (attempt id → worker id), read by the scheduler's reconciliation,
   * and the calls it found ended without word (`lost`): a port that keeps books per worker puts
   * them right (a lost `ended` or `adopted` message must not hold a worker's room for ever).
   */
  reconcile?(open: ReadonlyMap<string, string>, lost: readonly string[]): void;
}

/** A call ended (or was found gone): what the scheduler needs to free its slots and learn from it. */
export interface AttemptEnded {
  attemptId: string;
  taskId: string;
  campaignId: string;
  outcome: Outcome;
  lineId: string;
  gatewayId: string;
  switchId: string;
}
