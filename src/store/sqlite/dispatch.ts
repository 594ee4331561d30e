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
import type { SqliteDatabase } from './database.js';
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

/** The hot path: reading queue heads, claiming tasks, and group-committing call progress. */
export class SqliteDispatch implements DispatchRepository {
  // Statements and transactions are prepared once: preparing them per group commit showed in the
  // profile of the 1,000-CAPS benchmark.
  private readonly dueStatement;
  private readonly nextDueStatement;
  private readonly claimTask;
  private readonly insertAttempt;
  private readonly stageStatements;
  private readonly endAttempt;
  private readonly moveTask;
  private readonly claimAll;
  private readonly progressAll;
  private readonly advanceFence;
  private readonly readFence;

  constructor(private readonly db: SqliteDatabase) {
    this.dueStatement = db.prepare(
      `SELECT id, version, priority, not_before, expires_at, number_sealed, number_masked, variables, attempt_count, not_dialed_count
       FROM tasks WHERE campaign_id = ? AND status = 'queued' AND not_before <= ?
       ORDER BY priority DESC, not_before, id LIMIT ?`,
    );
    this.claimTask = db.prepare(
      `UPDATE tasks SET status = 'dialing', version = version + 1, updated_at = ?
       WHERE id = ? AND version = ? AND status = 'queued'`,
    );
    this.insertAttempt = db.prepare(
      `INSERT INTO attempts (id, task_id, campaign_id, tenant_id, worker_id, switch_id, gateway_id, line_id, caller_id, status, created_at)
       VALUES (@id, @taskId, @campaignId, @tenantId, @workerId, @switchId, @gatewayId, @lineId, @callerId, 'created', @now)`,
    );
    this.nextDueStatement = db.prepare(
      `SELECT MIN(not_before) AS at FROM tasks WHERE campaign_id = ? AND status = 'queued' AND not_before > ?`,
    );
    // Each stage sets its own time once, and the status only moves forward.
    this.stageStatements = {
      originated: db.prepare(
        `UPDATE attempts SET originated_at = COALESCE(originated_at, ?), status = CASE WHEN status = 'created' THEN 'originated' ELSE status END WHERE id = ?`,
      ),
      ringing: db.prepare(
        `UPDATE attempts SET ringing_at = COALESCE(ringing_at, ?), status = CASE WHEN status IN ('created', 'originated') THEN 'ringing' ELSE status END WHERE id = ?`,
      ),
      answered: db.prepare(
        `UPDATE attempts SET answered_at = COALESCE(answered_at, ?), status = CASE WHEN status <> 'ended' THEN 'answered' ELSE status END WHERE id = ?`,
      ),
    };
    this.endAttempt = db.prepare(
      `UPDATE attempts SET status = 'ended', ended_at = @endedAtMs, hangup_cause = @hangupCause, sip_code = @sipCode,
         outcome = @outcome, may_have_reached = @mayHaveReached
       WHERE id = @attemptId AND status <> 'ended'`,
    );
    this.moveTask = db.prepare(
      `UPDATE tasks SET status = @status, not_before = COALESCE(@notBefore, not_before), outcome = COALESCE(@outcome, outcome),
         attempt_count = attempt_count + @attemptDelta,
         not_dialed_count = CASE WHEN @notDialed = 1 THEN not_dialed_count + 1 ELSE 0 END,
         version = version + 1, updated_at = @now
       WHERE id = @taskId AND status = 'dialing'`,
    );
    // Stores the token unless a newer one is there; no row back means this token is stale.
    this.advanceFence = db.prepare(
      `INSERT INTO fences (scope, token) VALUES (?, ?)
       ON CONFLICT (scope) DO UPDATE SET token = excluded.token WHERE fences.token <= excluded.token
       RETURNING token`,
    );
    this.readFence = db.prepare('SELECT token FROM fences WHERE scope = ?');
    this.claimAll = db.transaction((claims: Claim[], nowMs: number, fence: FenceToken | undefined) => {
      if (fence && this.advanceFence.get(fence.scope, fence.token) === undefined) {
        throw new FencedError(`claim refused: fence token ${fence.token} of ${fence.scope} is stale`);
      }
      return claims.map((claim) => {
        const won = this.claimTask.run(nowMs, claim.taskId, claim.expectedVersion).changes === 1;
        if (won) this.insertAttempt.run({ ...claim.attempt, now: nowMs });
        return won;
      });
    });
    this.progressAll = db.transaction((progress: AttemptProgress[]) => {
      for (const p of progress) this.stageStatements[p.status].run(p.atMs, p.attemptId);
    });
  }

  async dueTasks(campaignId: string, nowMs: number, limit: number): Promise<DueTask[]> {
    return (this.dueStatement.all(campaignId, nowMs, limit) as DueRow[]).map((row) => ({
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
    const row = this.nextDueStatement.get(campaignId, afterMs) as { at: number | null };
    return row.at;
  }

  async claim(claims: Claim[], nowMs: number, fence?: FenceToken): Promise<boolean[]> {
    // IMMEDIATE: the fence is read and advanced under the write lock, never from a stale snapshot.
    return this.claimAll.immediate(claims, nowMs, fence);
  }

  async currentFence(scope: string): Promise<number> {
    const row = this.readFence.get(scope) as { token: number } | undefined;
    return row?.token ?? 0;
  }

  async recordProgress(progress: AttemptProgress[]): Promise<void> {
    if (progress.length === 0) return;
    this.progressAll(progress);
  }

  async finish(endings: AttemptEnding[], nowMs: number): Promise<void> {
    if (endings.length === 0) return;
    const { endAttempt, moveTask } = this;
    this.db.transaction(() => {
      for (const end of endings) {
        const ended = endAttempt.run({
          attemptId: end.attemptId,
          endedAtMs: end.endedAtMs,
          hangupCause: end.hangupCause,
          sipCode: end.sipCode,
          outcome: end.outcome,
          mayHaveReached: end.mayHaveReachedCallee ? 1 : 0,
        });
        if (ended.changes === 0) continue; // already ended: a duplicate report changes nothing
        assertTaskTransition('dialing', end.next.status);
        moveTask.run({
          taskId: end.taskId,
          status: end.next.status,
          notBefore: end.next.status === 'queued' ? end.next.notBefore : null,
          outcome: end.next.status === 'queued' ? null : end.next.outcome,
          attemptDelta: end.countsAsAttempt ? 1 : 0,
          notDialed: end.outcome === 'not_dialed' ? 1 : 0,
          now: nowMs,
        });
      }
    })();
  }

  async openAttempts(workerId?: string): Promise<OpenAttempt[]> {
    const rows = this.db
      .prepare(
        `SELECT a.*, t.version AS task_version, t.attempt_count AS task_attempt_count,
           t.not_dialed_count AS task_not_dialed_count, t.expires_at AS task_expires_at
         FROM attempts a JOIN tasks t ON t.id = a.task_id
         WHERE a.status <> 'ended' AND (@workerId IS NULL OR a.worker_id = @workerId)
         ORDER BY a.created_at`,
      )
      .all({ workerId: workerId ?? null }) as (AttemptRow & {
      task_version: number;
      task_attempt_count: number;
      task_not_dialed_count: number;
      task_expires_at: number | null;
    })[];
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
    const mark = this.db.prepare(
      `UPDATE attempts SET sending_at = ? WHERE id = ? AND worker_id = ? AND status <> 'ended'`,
    );
    return this.db.transaction(() => attemptIds.map((id) => mark.run(nowMs, id, workerId).changes === 1))();
  }

  async takeOver(fromWorkerId: string, toWorkerId: string): Promise<OpenAttempt[]> {
    if (fromWorkerId !== toWorkerId) {
      this.db
        .prepare(`UPDATE attempts SET worker_id = ? WHERE worker_id = ? AND status <> 'ended'`)
        .run(toWorkerId, fromWorkerId);
    }
    return this.openAttempts(toWorkerId);
  }

  async openAttemptWorkers(): Promise<Map<string, number>> {
    const rows = this.db
      .prepare(`SELECT worker_id, COUNT(*) AS n FROM attempts WHERE status <> 'ended' GROUP BY worker_id`)
      .all() as Array<{ worker_id: string; n: number }>;
    return new Map(rows.map((r) => [r.worker_id, r.n]));
  }

  async openAttemptIds(workerId?: string): Promise<Map<string, string>> {
    const rows = (
      workerId === undefined
        ? this.db.prepare(`SELECT id, worker_id FROM attempts WHERE status <> 'ended'`).all()
        : this.db
            .prepare(`SELECT id, worker_id FROM attempts WHERE status <> 'ended' AND worker_id = ?`)
            .all(workerId)
    ) as Array<{ id: string; worker_id: string }>;
    return new Map(rows.map((r) => [r.id, r.worker_id]));
  }

  async attemptsSince(sinceMs: number): Promise<Map<string, number>> {
    const rows = this.db
      .prepare(`SELECT tenant_id, COUNT(*) AS n FROM attempts WHERE created_at >= ? GROUP BY tenant_id`)
      .all(sinceMs) as { tenant_id: string; n: number }[];
    return new Map(rows.map((r) => [r.tenant_id, r.n]));
  }

  async expireDue(nowMs: number): Promise<number> {
    return this.db
      .prepare(
        `UPDATE tasks SET status = 'expired', version = version + 1, updated_at = ?
         WHERE status = 'queued' AND expires_at IS NOT NULL AND expires_at <= ?`,
      )
      .run(nowMs, nowMs).changes;
  }
}
