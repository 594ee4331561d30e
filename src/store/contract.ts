import type { Attempt, AttemptStatus } from '../domain/attempt.js';
import type { Outcome } from '../domain/outcome.js';
import type { Campaign, CampaignStatus, Gateway, Line, Switch, Tenant } from '../domain/resources.js';
import type { NextStep } from '../domain/retry-policy.js';
import type { Task, TaskStatus } from '../domain/task.js';
import type { CallRecordRepository } from './call-record-contract.js';
import type {
  ApiKeyRepository,
  AuditRepository,
  ErasureRepository,
  SealedValueRepository,
  ServiceTokenRepository,
  SessionRepository,
  TaskExportRepository,
  TenantProfileRepository,
  UserRepository,
} from './security-contract.js';

export * from './security-contract.js';

/**
 * The storage contract every durable store implements (embedded SQLite now, PostgreSQL in the
 * cluster). The store is the truth about tasks (ARCHITECTURE decision 5); every method is async
 * so that a networked implementation fits the same shape. Numbers arrive already sealed: the
 * store never sees a phone number in clear.
 */
export interface Store {
  readonly tenants: TenantRepository;
  readonly resources: ResourceRepository;
  readonly campaigns: CampaignRepository;
  readonly tasks: TaskRepository;
  readonly dispatch: DispatchRepository;
  /** Tenants with their limits and destination policy (security-contract.ts). */
  readonly tenantProfiles: TenantProfileRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly audit: AuditRepository;
  readonly erasure: ErasureRepository;
  readonly sealedValues: SealedValueRepository;
  /** Console users, their sessions, service tokens and the audited export (security-contract.ts). */
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly serviceTokens: ServiceTokenRepository;
  readonly taskExport: TaskExportRepository;
  /** Call records the switches posted (mod_json_cdr), read by recovery (call-record-contract.ts). */
  readonly callRecords: CallRecordRepository;
  close(): Promise<void>;
}

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  readonly code = 'not_found';
}

/** A precondition failed: a version moved, a status forbids the change, a reference is in use. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
  readonly code: string;
  constructor(message: string, code = 'conflict', options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Proof of leadership: a dispatch is accepted only under the newest token of its scope. */
export interface FenceToken {
  scope: string;
  token: number;
}

/** A claim made under a fence token older than one the store has already seen for its scope. */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  readonly code = 'fenced';
}

export interface Page<T> {
  items: T[];
  /** Opaque; present when more items follow. */
  nextCursor: string | null;
}

export interface TenantRepository {
  ensure(tenant: { id: string; name: string }, nowMs: number): Promise<Tenant>;
  get(id: string): Promise<Tenant | undefined>;
}

export type SwitchInput = Omit<Switch, 'createdAt' | 'updatedAt' | 'version' | 'eslPassword'> & {
  eslPasswordSealed: string;
};
export type SwitchRecord = Omit<Switch, 'eslPassword'> & { eslPasswordSealed: string };
export type GatewayInput = Omit<Gateway, 'createdAt' | 'updatedAt' | 'version'>;
/** Scheduling fields default when omitted: weight 1, no caller-id limits; the health override has its own method. */
export type LineInput = Omit<
  Line,
  | 'createdAt'
  | 'updatedAt'
  | 'version'
  | 'weight'
  | 'callerIdCaps'
  | 'callerIdMaxConcurrent'
  | 'healthOverride'
> &
  Partial<Pick<Line, 'weight' | 'callerIdCaps' | 'callerIdMaxConcurrent'>>;

export interface ResourceRepository {
  createSwitch(input: SwitchInput, nowMs: number): Promise<SwitchRecord>;
  updateSwitch(
    id: string,
    input: SwitchInput,
    expectedVersion: number | undefined,
    nowMs: number,
  ): Promise<SwitchRecord>;
  getSwitch(id: string): Promise<SwitchRecord | undefined>;
  listSwitches(): Promise<SwitchRecord[]>;
  deleteSwitch(id: string): Promise<void>;

  createGateway(input: GatewayInput, nowMs: number): Promise<Gateway>;
  updateGateway(
    id: string,
    input: GatewayInput,
    expectedVersion: number | undefined,
    nowMs: number,
  ): Promise<Gateway>;
  getGateway(id: string): Promise<Gateway | undefined>;
  listGateways(): Promise<Gateway[]>;
  deleteGateway(id: string): Promise<void>;

  createLine(input: LineInput, nowMs: number): Promise<Line>;
  updateLine(id: string, input: LineInput, expectedVersion: number | undefined, nowMs: number): Promise<Line>;
  getLine(id: string): Promise<Line | undefined>;
  listLines(): Promise<Line[]>;
  deleteLine(id: string): Promise<void>;
  /** The operator forces a line in or out of service, or hands it back to automatic health (null). */
  setLineHealthOverride(id: string, override: 'in' | 'out' | null, nowMs: number): Promise<Line>;
}

export type CampaignInput = Omit<
  Campaign,
  'createdAt' | 'updatedAt' | 'version' | 'status' | 'schedule' | 'selectionStrategy'
> & {
  status?: CampaignStatus;
  /** Default: no calling-hours restriction. */
  schedule?: Campaign['schedule'];
  /** Default: answer_rate_first. */
  selectionStrategy?: Campaign['selectionStrategy'];
};

export interface CampaignRepository {
  create(input: CampaignInput, nowMs: number): Promise<Campaign>;
  /** Tenant-scoped: a campaign of another tenant is not found. */
  get(tenantId: string, id: string): Promise<Campaign | undefined>;
  list(tenantId: string, options: { cursor?: string; limit: number }): Promise<Page<Campaign>>;
  update(
    tenantId: string,
    id: string,
    patch: Partial<Omit<CampaignInput, 'id' | 'tenantId'>>,
    expectedVersion: number | undefined,
    nowMs: number,
  ): Promise<Campaign>;
  /** Cancelling a campaign also cancels its queued tasks. */
  setStatus(tenantId: string, id: string, status: CampaignStatus, nowMs: number): Promise<Campaign>;
  /** Every campaign that may dispatch (status active), across tenants: the scheduler's view. */
  listActive(): Promise<Campaign[]>;
  stats(tenantId: string, id: string): Promise<CampaignStats>;
}

export interface CampaignStats {
  byStatus: Record<TaskStatus, number>;
  byOutcome: Partial<Record<Outcome, number>>;
}

export interface NewTask {
  id: string;
  tenantId: string;
  campaignId: string;
  numberSealed: string;
  numberIndex: string;
  numberMasked: string;
  variables: Record<string, string>;
  priority: number;
  notBefore: number;
  expiresAt: number | null;
  externalRef: string | null;
}

export interface TaskFilter {
  campaignId?: string;
  status?: TaskStatus;
  outcome?: Outcome;
}

export interface TaskRepository {
  /**
   * Inserts all in one transaction. With `skipDuplicates`, tasks whose number already has an open
   * (queued or dialing) task in the campaign, or appears earlier in the same batch, are not
   * inserted; their indexes in `tasks` are returned.
   */
  insertMany(
    tasks: NewTask[],
    options: { skipDuplicates: boolean; nowMs: number },
  ): Promise<{ duplicates: number[] }>;
  get(tenantId: string, id: string): Promise<(Task & { attempts: Attempt[] }) | undefined>;
  list(
    tenantId: string,
    filter: TaskFilter,
    options: { cursor?: string; limit: number },
  ): Promise<Page<Task>>;
  /** Only a queued task can be cancelled; otherwise ConflictError `task_not_cancellable`. */
  cancel(tenantId: string, id: string, nowMs: number): Promise<Task>;
}

/** A task as the scheduler sees it in a campaign's queue. */
export interface DueTask {
  id: string;
  version: number;
  priority: number;
  notBefore: number;
  expiresAt: number | null;
  numberSealed: string;
  numberMasked: string;
  variables: Record<string, string>;
  attemptCount: number;
  notDialedCount: number;
}

export interface NewAttempt {
  id: string;
  taskId: string;
  campaignId: string;
  tenantId: string;
  workerId: string;
  switchId: string;
  gatewayId: string;
  lineId: string;
  callerId: string | null;
}

export interface Claim {
  taskId: string;
  /** The version read from the queue; the claim succeeds only if it is still current (R3.7). */
  expectedVersion: number;
  attempt: NewAttempt;
}

export interface AttemptProgress {
  attemptId: string;
  status: Exclude<AttemptStatus, 'created' | 'ended'>;
  atMs: number;
}

export interface AttemptEnding {
  attemptId: string;
  taskId: string;
  endedAtMs: number;
  hangupCause: string | null;
  sipCode: number | null;
  outcome: Outcome;
  mayHaveReachedCallee: boolean;
  /** What becomes of the task (from the retry policy). */
  next: NextStep;
  /** Whether this attempt counts against the task's attempts (it reached the network). */
  countsAsAttempt: boolean;
}

/** An attempt that was not ended when its worker last ran: recovery decides its fate. */
export interface OpenAttempt extends Attempt {
  taskVersion: number;
  taskAttemptCount: number;
  taskNotDialedCount: number;
  taskExpiresAt: number | null;
  /**
   * When its worker was cleared to write the originate (the write-ahead of `markSending`); null:
   * it was never written to any switch, so a taken-over attempt can end `not_dialed`.
   */
  sendingAt: number | null;
}

export interface DispatchRepository {
  /** The campaign's queue head: queued tasks due by `nowMs`, best first. */
  dueTasks(campaignId: string, nowMs: number, limit: number): Promise<DueTask[]>;
  /** The earliest `notBefore` after `afterMs` among the campaign's queued tasks, if any. */
  nextDueAt(campaignId: string, afterMs: number): Promise<number | null>;
  /**
   * Takes tasks for dialing in one transaction: each task moves queued → dialing only if its
   * version still matches, and then its attempt row is written. Returns, per claim, whether it won.
   * With a `fence`, the same transaction first checks it against the newest token stored for its
   * scope: an older one refuses the whole claim with FencedError and writes nothing; an equal or
   * newer one is accepted and becomes the stored token.
   */
  claim(claims: Claim[], nowMs: number, fence?: FenceToken): Promise<boolean[]>;
  /** The newest fence token stored for `scope` (0 when none): seeds a leader's token after a loss. */
  currentFence(scope: string): Promise<number>;
  /** Stage times, written in one batch (group commit); a stage never moves an attempt backwards. */
  recordProgress(progress: AttemptProgress[]): Promise<void>;
  /** Ends attempts and moves their tasks on, in one transaction. */
  finish(endings: AttemptEnding[], nowMs: number): Promise<void>;
  /** Open attempts of a worker (all workers when omitted), for recovery after a restart. */
  openAttempts(workerId?: string): Promise<OpenAttempt[]>;
  /**
   * Moves the open attempts of `fromWorkerId` to `toWorkerId` (a live worker adopting a gone one's
   * calls) and returns them as they are now. Atomic: of two workers taking over the same calls at
   * once, each attempt goes to one of them.
   */
  takeOver(fromWorkerId: string, toWorkerId: string): Promise<OpenAttempt[]>;
  /** The workers that have open attempts, with how many each. */
  openAttemptWorkers(): Promise<Map<string, number>>;
  /**
   * A worker's write-ahead before it writes originates to their switches (R3.6): sets
   * `sendingAt` on each attempt that is still open and still this worker's, in one write, and
   * says which; one taken over meanwhile (its worker seemed gone) must not be sent.
   */
  markSending(attemptIds: readonly string[], workerId: string, nowMs: number): Promise<boolean[]>;
  /**
   * Every open attempt's id with the worker following it (the scheduler's reconciliation), or
   * only `workerId`'s (a worker's check for orders it never received).
   */
  openAttemptIds(workerId?: string): Promise<Map<string, string>>;
  /** Queued tasks past their expiry become expired; returns how many. */
  expireDue(nowMs: number): Promise<number>;
  /** Attempts created since `sinceMs`, per tenant (to seed the daily-attempt guard at start). */
  attemptsSince(sinceMs: number): Promise<Map<string, number>>;
}
