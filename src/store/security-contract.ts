import type { Tenant } from '../domain/resources.js';

/**
 * The parts of the storage contract that tenancy and security add (R1.10): tenant profiles with
 * their limits and destination policy, API keys, the audit log, erasure and suppressions, and
 * the re-sealing pass of key rotation. Members of `Store` (contract.ts).
 */

/**
 * Per-tenant ceilings (null = none at tenant level). Stored here, enforced by the scheduler in
 * dispatch: `maxCaps` call attempts per second and `maxConcurrent` calls across all the tenant's
 * campaigns, `maxDailyAttempts` attempts per UTC day.
 */
export interface TenantLimits {
  maxCaps: number | null;
  maxConcurrent: number | null;
  maxDailyAttempts: number | null;
}

/** Fraud guards applied at intake, per item. */
export interface DestinationPolicy {
  /** E.164 prefixes (`+86`, `+4420`); empty = every destination not denied. */
  allowPrefixes: string[];
  /** Checked first: a denied prefix is refused even when also allowed. */
  denyPrefixes: string[];
  /** Premium-rate numbers are refused unless this is explicitly true. */
  allowPremiumRate: boolean;
}

export interface TenantProfile extends Tenant {
  /** Share of dispatch against other tenants when they compete for lines (R3.8). */
  weight: number;
  limits: TenantLimits;
  destinations: DestinationPolicy;
  updatedAt: number;
  version: number;
}

export interface TenantProfileInput {
  id: string;
  name: string;
  /** Default 1. */
  weight?: number;
  limits: TenantLimits;
  destinations: DestinationPolicy;
}

export interface TenantProfileRepository {
  /** ConflictError `tenant_exists` when the id is taken. */
  create(input: TenantProfileInput, nowMs: number): Promise<TenantProfile>;
  get(id: string): Promise<TenantProfile | undefined>;
  list(): Promise<TenantProfile[]>;
  update(
    id: string,
    patch: Partial<Omit<TenantProfileInput, 'id'>>,
    expectedVersion: number | undefined,
    nowMs: number,
  ): Promise<TenantProfile>;
}

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  role: string;
  /** Hex SHA-256 of the secret; the secret itself is shown once and never stored. */
  keyHash: string;
  keyPrefix: string;
  createdBy: string;
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface ApiKeyRepository {
  create(record: Omit<ApiKeyRecord, 'revokedAt' | 'lastUsedAt'>): Promise<ApiKeyRecord>;
  findByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  /** Tenant-scoped: another tenant's key is not found. */
  get(tenantId: string, id: string): Promise<ApiKeyRecord | undefined>;
  list(tenantId: string): Promise<ApiKeyRecord[]>;
  /** Idempotent; NotFoundError for another tenant's key. */
  revoke(tenantId: string, id: string, nowMs: number): Promise<ApiKeyRecord>;
  touch(id: string, nowMs: number): Promise<void>;
}

/** What an audited operation records; `before`/`after` are JSON text, masked by the caller. */
export interface AuditDraft {
  id: string;
  at: number;
  actor: string;
  tenantId: string | null;
  sourceIp: string | null;
  action: string;
  target: string | null;
  before: string | null;
  after: string | null;
}

export interface AuditEntry extends AuditDraft {
  seq: number;
  prevHash: string;
  hash: string;
}

/** The `prevHash` of the very first entry of the chain. */
export const AUDIT_GENESIS = '0'.repeat(64);

export interface AuditCheckpoint {
  throughSeq: number;
  throughHash: string;
  pruned: number;
  at: number;
}

export interface AuditRepository {
  /**
   * Appends after the current head, atomically: `seal` receives the entry with its `prevHash`
   * (the head's hash, or the genesis value) and returns its hash.
   */
  append(draft: AuditDraft, seal: (entry: Omit<AuditEntry, 'hash'>) => string): Promise<AuditEntry>;
  /** In `seq` order, after `afterSeq`; optionally one tenant's. */
  list(filter: { tenantId?: string; afterSeq?: number; limit: number }): Promise<AuditEntry[]>;
  head(): Promise<{ seq: number; hash: string } | undefined>;
  /** The latest prune checkpoint, if anything was ever pruned. */
  checkpoint(): Promise<AuditCheckpoint | undefined>;
  /**
   * Removes entries older than `beforeMs`, after recording a checkpoint with the last removed
   * entry's hash, so the chain stays verifiable. Returns the checkpoint, or undefined if none.
   */
  prune(beforeMs: number, nowMs: number): Promise<AuditCheckpoint | undefined>;
}

export type ErasureScope =
  | { kind: 'number'; tenantId: string; numberIndex: string }
  | { kind: 'task'; tenantId: string; taskId: string }
  | { kind: 'tenant'; tenantId: string };

export interface ErasureReport {
  tasks: number;
  attempts: number;
  /** Call records (CDRs the switches posted) of the erased attempts. */
  callRecords: number;
  /** Campaigns cancelled (tenant erasure): their queues are gone. */
  campaignsCancelled: number;
  suppressed: number;
}

export interface ErasureRepository {
  /**
   * Deletes everything that holds the scope's numbers (tasks and their attempts) in one
   * transaction, overwriting the freed pages (secure delete) and checkpointing the journal so
   * the bytes leave the files too. With `suppress`, the erased numbers' blind indexes are kept
   * so intake refuses them again. A task erasure of an unknown task is a NotFoundError.
   */
  erase(scope: ErasureScope, options: { suppress: boolean; nowMs: number }): Promise<ErasureReport>;
  /** The subset of `numberIndexes` suppressed for the tenant. */
  suppressed(tenantId: string, numberIndexes: readonly string[]): Promise<Set<string>>;
}

/** Every sealed value at rest, for key rotation. */
export interface SealedValueRepository {
  /**
   * Rewrites every sealed value (task numbers, switch passwords) through `reseal`, in batches of
   * `batchSize` per transaction; values `reseal` returns unchanged are not written.
   * Returns how many values were rewritten, by table.
   */
  resealAll(reseal: (sealed: string) => string, batchSize: number): Promise<Record<string, number>>;
  /** How many sealed values each key id seals, by table (`v1.<keyId>.…`). */
  countByKeyId(): Promise<Record<string, Record<string, number>>>;
}

/** A console user: the same roles and tenancy as an API key, with a password instead of a key. */
export interface UserRecord {
  id: string;
  tenantId: string;
  /** Lower-cased; unique across the platform (login names no tenant). */
  email: string;
  role: string;
  /** argon2id PHC string; never leaves the store except to be verified. */
  passwordHash: string;
  disabled: boolean;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  version: number;
  lastLoginAt: number | null;
}

export type NewUser = Omit<UserRecord, 'disabled' | 'updatedAt' | 'version' | 'lastLoginAt'>;

export interface UserPatch {
  role?: string;
  passwordHash?: string;
  disabled?: boolean;
}

export interface UserRepository {
  /** ConflictError `email_taken` when the e-mail belongs to any user. */
  create(user: NewUser): Promise<UserRecord>;
  findByEmail(email: string): Promise<UserRecord | undefined>;
  /** Tenant-scoped: another tenant's user is not found. */
  get(tenantId: string, id: string): Promise<UserRecord | undefined>;
  list(tenantId: string): Promise<UserRecord[]>;
  /** NotFoundError for another tenant's user. */
  update(tenantId: string, id: string, patch: UserPatch, nowMs: number): Promise<UserRecord>;
  /** Its sessions go with it. NotFoundError for another tenant's user. */
  delete(tenantId: string, id: string): Promise<void>;
  recordLogin(id: string, nowMs: number): Promise<void>;
}

export interface SessionRecord {
  /** Hex SHA-256 of the session id; the id itself lives only in the browser's cookie. */
  idHash: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  /** Absolute expiry, whatever the activity. */
  expiresAt: number;
}

export interface SessionRepository {
  create(session: Omit<SessionRecord, 'lastSeenAt'>): Promise<void>;
  /** The session with its user, if both exist. */
  find(idHash: string): Promise<{ session: SessionRecord; user: UserRecord } | undefined>;
  touch(idHash: string, nowMs: number): Promise<void>;
  delete(idHash: string): Promise<void>;
  deleteForUser(userId: string): Promise<number>;
  /** Sessions past their absolute expiry or idle since before `idleBeforeMs`; returns how many. */
  deleteExpired(nowMs: number, idleBeforeMs: number): Promise<number>;
}

export interface ServiceTokenRecord {
  id: string;
  role: string;
  name: string;
  /** Hex SHA-256 of the token. */
  tokenHash: string;
  tokenPrefix: string;
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface ServiceTokenRepository {
  create(record: Omit<ServiceTokenRecord, 'revokedAt' | 'lastUsedAt'>): Promise<ServiceTokenRecord>;
  findByHash(tokenHash: string): Promise<ServiceTokenRecord | undefined>;
  list(): Promise<ServiceTokenRecord[]>;
  /** Idempotent; NotFoundError for an unknown id. */
  revoke(id: string, nowMs: number): Promise<ServiceTokenRecord>;
  touch(id: string, nowMs: number): Promise<void>;
}

/** One exported task: the number still sealed (the caller opens it while writing the file). */
export interface ExportedTask {
  id: string;
  numberSealed: string;
  status: string;
  outcome: string | null;
  attemptCount: number;
  externalRef: string | null;
}

export interface TaskExportRepository {
  count(tenantId: string, campaignId: string): Promise<number>;
  /** In id order, after `afterId` (exclusive; '' from the start). */
  page(tenantId: string, campaignId: string, afterId: string, limit: number): Promise<ExportedTask[]>;
}
