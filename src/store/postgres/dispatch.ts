import { type AttemptStatus, attemptStageRank } from '../../domain/attempt.js';
import { assertTaskTransition } from '../../domain/task.js';
import {
  type AttemptEnding,
  type AttemptProgress,
  type Claim,
  type DispatchRepository,
  type DueTask,
  FencedError,
  type FenceToken,
  type OpenAttempt,
} from '../contract.js';
import { AttemptPartitions } from './attempt-partitions.js';
import { type PgDatabase, type Queryable, retryingDeadlocks } from './database.js';
import { type AttemptRow, toAttempt } from './rows.js';

interface DueRow {
  id: string;
  version: number;
  priority: number;
  not_before: number;
  expires_at: number | null;
  number_sealed: string;
  number_masked: string;
  variables: string;
  attempt_count: number;
  not_dialed_count: number;
}

/**
 * Stores the token unless a newer one is there, row-locking the scope's fence until commit: a
 * deposed leader's claim racing its successor's waits, then finds the newer token. No row back
 * means this token is stale.
 */
const ADVANCE_FENCE = `
  INSERT INTO fences (scope, token) VALUES ($1, $2)
  ON CONFLICT (scope) DO UPDATE SET token = EXCLUDED.token WHERE fences.token <= EXCLUDED.token
  RETURNING token`;

/** Locks the claimed tasks still queued, in id order (so concurrent claims cannot deadlock). */
const LOCK_QUEUED = `
  SELECT id, version FROM tasks WHERE id = ANY($1::text[]) AND status = 'queued' ORDER BY id FOR UPDATE`;

const TAKE_TASKS = `
  UPDATE tasks SET status = 'dialing', version = version + 1, updated_at = $2
  WHERE id = ANY($1::text[]) AND status = 'queued'`;

const INSERT_ATTEMPTS = `
  INSERT INTO attempts (id, task_id, campaign_id, tenant_id, worker_id, switch_id, gateway_id, line_id, caller_id,
    status, created_at)
  SELECT id, task_id, campaign_id, tenant_id, worker_id, switch_id, gateway_id, line_id, caller_id, 'created', $10
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
    AS a(id, task_id, campaign_id, tenant_id, worker_id, switch_id, gateway_id, line_id, caller_id)`;

/**
 * A batch of stage times, one row per attempt (folded in `foldProgress`): each stage's time is set
 * once, and the status moves only forward (by rank; 'ended' ranks highest, so it never moves).
 */
const RECORD_PROGRESS = `
  UPDATE attempts a SET
    originated_at = COALESCE(a.originated_at, p.originated_at),
    ringing_at = COALESCE(a.ringing_at, p.ringing_at),
    answered_at = COALESCE(a.answered_at, p.answered_at),
    status = CASE
      WHEN array_position(ARRAY['created', 'originated', 'ringing', 'answered', 'ended'], a.status)
        < array_position(ARRAY['created', 'originated', 'ringing', 'answered', 'ended'], p.status)
      THEN p.status ELSE a.status END
  FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[])
    AS p(id, originated_at, ringing_at, answered_at, status)
  WHERE a.id = p.id`;

/** Ends the batch's attempts that are still open; returns which. */
const END_ATTEMPTS = `
  UPDATE attempts a SET status = 'ended', ended_at = e.ended_at, hangup_cause = e.hangup_cause, sip_code = e.sip_code,
    outcome = e.outcome, may_have_reached = e.may_have_reached
  FROM unnest($1::text[], $2::bigint[], $3::text[], $4::int[], $5::text[], $6::int[])
    AS e(id, ended_at, hangup_cause, sip_code, outcome, may_have_reached)
  WHERE a.id = e.id AND a.status <> 'ended'
  RETURNING a.id`;

/** Moves the tasks of the attempts just ended on, from dialing to what the retry policy decided. */
const MOVE_TASKS = `
  UPDATE tasks t SET status = m.status, not_before = COALESCE(m.not_before, t.not_before),
    outcome = COALESCE(m.outcome, t.outcome), attempt_count = t.attempt_count + m.attempt_delta,
    not_dialed_count = CASE WHEN m.not_dialed = 1 THEN t.not_dialed_count + 1 ELSE 0 END,
    version = t.version + 1, updated_at = $7
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::int[], $6::int[])
    AS m(task_id, status, not_before, outcome, attempt_delta, not_dialed)
  WHERE t.id = m.task_id AND t.status = 'dialing'`;

/**
 * The hot path on PostgreSQL. Every batch is a fixed number of statements whatever its size —
 * arrays passed through `unnest` — never one round trip per row: a claim is fence + lock + update
 * + insert in one transaction; a progress batch is one UPDATE; a finish batch two UPDATEs.
 */
export class PgDispatch implements DispatchRepository {
  private readonly partitions: AttemptPartitions;

  constructor(private readonly db: PgDatabase) {
    this.partitions = new AttemptPartitions(db);
  }

  async dueTasks(campaignId: string, nowMs: number, limit: number): Promise<DueTask[]> {
    const { rows } = await this.db.query<DueRow>(
      `SELECT id, version, priority, not_before, expires_at, number_sealed, number_masked, variables, attempt_count,
         not_dialed_count
       FROM tasks WHERE campaign_id = $1 AND status = 'queued' AND not_before <= $2
       ORDER BY priority DESC, not_before, id LIMIT $3`,
      [campaignId, nowMs, limit],
    );
    return rows.map((row) => ({
      id: row.id,
      version: row.version,
      priority: row.priority,
      notBefore: row.not_before,
      expiresAt: row.expires_at,
      numberSealed: row.number_sealed,
      numberMasked: row.number_masked,
      variables: JSON.parse(row.variables) as Record<string, string>,
      attemptCount: row.attempt_count,
      notDialedCount: row.not_dialed_count,
    }));
  }

  async nextDueAt(campaignId: string, afterMs: number): Promise<number | null> {
    const { rows } = await this.db.query<{ at: number | null }>(
      `SELECT MIN(not_before) AS at FROM tasks WHERE campaign_id = $1 AND status = 'queued' AND not_before > $2`,
      [campaignId, afterMs],
    );
    return rows[0]?.at ?? null;
  }

  async claim(claims: Claim[], nowMs: number, fence?: FenceToken): Promise<boolean[]> {
    if (claims.length === 0 && !fence) return [];
    await this.partitions.ensureFor(nowMs);
    return this.db.transaction(async (client) => {
      if (fence) await advanceFence(client, fence);
      if (claims.length === 0) return [];
      const locked = await client.query<{ id: string; version: number }>(LOCK_QUEUED, [
        [...new Set(claims.map((c) => c.taskId))],
      ]);
      // As SQLite applies them: in order, the first claim carrying a task's current version wins it.
      const current = new Map(locked.rows.map((row) => [row.id, row.version]));
      const won = claims.map((claim) => {
        if (current.get(claim.taskId) !== claim.expectedVersion) return false;
        current.delete(claim.taskId);
        return true;
      });
      const winners = claims.filter((_, index) => won[index]);
      if (winners.length === 0) return won;
      await client.query(TAKE_TASKS, [winners.map((c) => c.taskId), nowMs]);
      const attempts = winners.map((c) => c.attempt);
      await client.query(INSERT_ATTEMPTS, [
        attempts.map((a) => a.id),
        attempts.map((a) => a.taskId),
        attempts.map((a) => a.campaignId),
        attempts.map((a) => a.tenantId),
        attempts.map((a) => a.workerId),
        attempts.map((a) => a.switchId),
        attempts.map((a) => a.gatewayId),
        attempts.map((a) => a.lineId),
        attempts.map((a) => a.callerId),
        nowMs,
      ]);
      return won;
    });
  }

  async currentFence(scope: string): Promise<number> {
    const { rows } = await this.db.query<{ token: number }>('SELECT token FROM fences WHERE scope = $1', [
      scope,
    ]);
    return rows[0]?.token ?? 0;
  }

  async recordProgress(progress: AttemptProgress[]): Promise<void> {
    if (progress.length === 0) return;
    const folded = foldProgress(progress);
    await retryingDeadlocks(() =>
      this.db.query(RECORD_PROGRESS, [
        folded.map((p) => p.attemptId),
        folded.map((p) => p.originatedAt),
        folded.map((p) => p.ringingAt),
        folded.map((p) => p.answeredAt),
        folded.map((p) => p.status),
      ]),
    );
  }

  async finish(endings: AttemptEnding[], nowMs: number): Promise<void> {
    if (endings.length === 0) return;
    // A duplicate report of an attempt in the same batch changes nothing, as a later batch wouldn't.
    const byAttempt = new Map<string, AttemptEnding>();
    for (const end of endings) if (!byAttempt.has(end.attemptId)) byAttempt.set(end.attemptId, end);
    const unique = [...byAttempt.values()];
    await retryingDeadlocks(() => this.finishOnce(unique, nowMs));
  }

  private async finishOnce(unique: readonly AttemptEnding[], nowMs: number): Promise<void> {
    await this.db.transaction(async (client) => {
      const ended = await client.query<{ id: string }>(END_ATTEMPTS, [
        unique.map((e) => e.attemptId),
        unique.map((e) => e.endedAtMs),
        unique.map((e) => e.hangupCause),
        unique.map((e) => e.sipCode),
        unique.map((e) => e.outcome),
        unique.map((e) => (e.mayHaveReachedCallee ? 1 : 0)),
      ]);
      const endedIds = new Set(ended.rows.map((row) => row.id));
      // Only a task still dialing moves, so of two endings for one task the first decides.
      const moves = new Map<string, AttemptEnding>();
      for (const end of unique) {
        if (!endedIds.has(end.attemptId)) continue; // already ended: a duplicate report changes nothing
        assertTaskTransition('dialing', end.next.status);
        if (!moves.has(end.taskId)) moves.set(end.taskId, end);
      }
      if (moves.size === 0) return;
      const next = [...moves.values()];
      await client.query(MOVE_TASKS, [
        next.map((e) => e.taskId),
        next.map((e) => e.next.status),
        next.map((e) => (e.next.status === 'queued' ? e.next.notBefore : null)),
        next.map((e) => (e.next.status === 'queued' ? null : e.next.outcome)),
        next.map((e) => (e.countsAsAttempt ? 1 : 0)),
        next.map((e) => (e.outcome === 'not_dialed' ? 1 : 0)),
        nowMs,
      ]);
    });
  }

  async openAttempts(workerId?: string): Promise<OpenAttempt[]> {
    const { rows } = await this.db.query<
      AttemptRow & {
        task_version: number;
        task_attempt_count: number;
        task_not_dialed_count: number;
        task_expires_at: number | null;
      }
    >(
      `SELECT a.*, t.version AS task_version, t.attempt_count AS task_attempt_count,
         t.not_dialed_count AS task_not_dialed_count, t.expires_at AS task_expires_at
       FROM attempts a JOIN tasks t ON t.id = a.task_id
       WHERE a.status <> 'ended' AND ($1::text IS NULL OR a.worker_id = $1)
       ORDER BY a.created_at, a.id`,
      [workerId ?? null],
    );
    return rows.map((row) => ({
      ...toAttempt(row),
      taskVersion: row.task_version,
      taskAttemptCount: row.task_attempt_count,
      taskNotDialedCount: row.task_not_dialed_count,
      taskExpiresAt: row.task_expires_at,
      sendingAt: row.sending_at,
    }));
  }

  async markSending(attemptIds: readonly string[], workerId: string, nowMs: number): Promise<boolean[]> {
    if (attemptIds.length === 0) return [];
    const { rows } = await retryingDeadlocks(() =>
      this.db.query<{ id: string }>(
        `UPDATE attempts SET sending_at = $1
       WHERE id = ANY($2::text[]) AND worker_id = $3 AND status <> 'ended'
       RETURNING id`,
        [nowMs, attemptIds, workerId],
      ),
    );
    const marked = new Set(rows.map((r) => r.id));
    return attemptIds.map((id) => marked.has(id));
  }

  async takeOver(fromWorkerId: string, toWorkerId: string): Promise<OpenAttempt[]> {
    if (fromWorkerId !== toWorkerId) {
      await retryingDeadlocks(() =>
        this.db.query(`UPDATE attempts SET worker_id = $1 WHERE worker_id = $2 AND status <> 'ended'`, [
          toWorkerId,
          fromWorkerId,
        ]),
      );
    }
    return this.openAttempts(toWorkerId);
  }

  async openAttemptWorkers(): Promise<Map<string, number>> {
    const { rows } = await this.db.query<{ worker_id: string; n: number }>(
      `SELECT worker_id, COUNT(*) AS n FROM attempts WHERE status <> 'ended' GROUP BY worker_id`,
    );
    return new Map(rows.map((r) => [r.worker_id, r.n]));
  }

  async openAttemptIds(workerId?: string): Promise<Map<string, string>> {
    const { rows } =
      workerId === undefined
        ? await this.db.query<{ id: string; worker_id: string }>(
            `SELECT id, worker_id FROM attempts WHERE status <> 'ended'`,
          )
        : await this.db.query<{ id: string; worker_id: string }>(
            `SELECT id, worker_id FROM attempts WHERE status <> 'ended' AND worker_id = $1`,
            [workerId],
          );
    return new Map(rows.map((r) => [r.id, r.worker_id]));
  }

  async attemptsSince(sinceMs: number): Promise<Map<string, number>> {
    const { rows } = await this.db.query<{ tenant_id: string; n: number }>(
      'SELECT tenant_id, COUNT(*) AS n FROM attempts WHERE created_at >= $1 GROUP BY tenant_id',
      [sinceMs],
    );
    return new Map(rows.map((r) => [r.tenant_id, r.n]));
  }

  async expireDue(nowMs: number): Promise<number> {
    const result = await this.db.query(
      `UPDATE tasks SET status = 'expired', version = version + 1, updated_at = $1
       WHERE status = 'queued' AND expires_at IS NOT NULL AND expires_at <= $1`,
      [nowMs],
    );
    return result.rowCount ?? 0;
  }
}

async function advanceFence(client: Queryable, fence: FenceToken): Promise<void> {
  const { rowCount } = await client.query(ADVANCE_FENCE, [fence.scope, fence.token]);
  if (rowCount === 0) {
    throw new FencedError(`claim refused: fence token ${fence.token} of ${fence.scope} is stale`);
  }
}

interface FoldedProgress {
  attemptId: string;
  originatedAt: number | null;
  ringingAt: number | null;
  answeredAt: number | null;
  /** The furthest stage reported. */
  status: Exclude<AttemptStatus, 'created' | 'ended'>;
}

/**
 * One row per attempt with what applying the batch in order would leave: each stage's first
 * reported time (later ones lose to it, as to a time already stored) and the furthest stage.
 */
export function foldProgress(progress: AttemptProgress[]): FoldedProgress[] {
  const byAttempt = new Map<string, FoldedProgress>();
  for (const p of progress) {
    let folded = byAttempt.get(p.attemptId);
    if (!folded) {
      folded = {
        attemptId: p.attemptId,
        originatedAt: null,
        ringingAt: null,
        answeredAt: null,
        status: p.status,
      };
      byAttempt.set(p.attemptId, folded);
    }
    if (p.status === 'originated') folded.originatedAt ??= p.atMs;
    else if (p.status === 'ringing') folded.ringingAt ??= p.atMs;
    else folded.answeredAt ??= p.atMs;
    if (attemptStageRank(p.status) > attemptStageRank(folded.status)) folded.status = p.status;
  }
  return [...byAttempt.values()];
}
