import type { Attempt } from '../../domain/attempt.js';
import type { Task } from '../../domain/task.js';
import {
  ConflictError,
  type NewTask,
  NotFoundError,
  type Page,
  type TaskFilter,
  type TaskRepository,
} from '../contract.js';
import { decodeCursor, encodeCursor, type SqliteDatabase } from './database.js';
import { type AttemptRow, type TaskRow, toAttempt, toTask } from './rows.js';

export class SqliteTasks implements TaskRepository {
  constructor(private readonly db: SqliteDatabase) {}

  async insertMany(
    tasks: NewTask[],
    options: { skipDuplicates: boolean; nowMs: number },
  ): Promise<{ duplicates: number[] }> {
    const insert = this.db.prepare(
      `INSERT INTO tasks (id, tenant_id, campaign_id, number_sealed, number_index, number_masked, variables, priority,
         not_before, expires_at, status, version, attempt_count, not_dialed_count, outcome, external_ref, created_at, updated_at)
       VALUES (@id, @tenantId, @campaignId, @numberSealed, @numberIndex, @numberMasked, @variables, @priority,
         @notBefore, @expiresAt, 'queued', 1, 0, 0, NULL, @externalRef, @now, @now)`,
    );
    const openWithNumber = this.db.prepare(
      `SELECT 1 FROM tasks WHERE campaign_id = ? AND number_index = ? AND status IN ('queued', 'dialing') LIMIT 1`,
    );
    const duplicates: number[] = [];
    this.db.transaction(() => {
      const seen = new Set<string>();
      tasks.forEach((task, index) => {
        if (options.skipDuplicates) {
          const key = `${task.campaignId}\u0000${task.numberIndex}`;
          if (seen.has(key) || openWithNumber.get(task.campaignId, task.numberIndex)) {
            duplicates.push(index);
            return;
          }
          seen.add(key);
        }
        insert.run({ ...task, variables: JSON.stringify(task.variables), now: options.nowMs });
      });
    })();
    return { duplicates };
  }

  async get(tenantId: string, id: string): Promise<(Task & { attempts: Attempt[] }) | undefined> {
    const row = this.db.prepare('SELECT * FROM tasks WHERE id = ? AND tenant_id = ?').get(id, tenantId) as
      | TaskRow
      | undefined;
    if (!row) return undefined;
    const attempts = (
      this.db
        .prepare('SELECT * FROM attempts WHERE task_id = ? ORDER BY created_at, id')
        .all(id) as AttemptRow[]
    ).map(toAttempt);
    return { ...toTask(row), attempts };
  }

  async list(
    tenantId: string,
    filter: TaskFilter,
    options: { cursor?: string; limit: number },
  ): Promise<Page<Task>> {
    const conditions = ['tenant_id = @tenantId', 'id > @after'];
    if (filter.campaignId) conditions.push('campaign_id = @campaignId');
    if (filter.status) conditions.push('status = @status');
    if (filter.outcome) conditions.push('outcome = @outcome');
    const rows = this.db
      .prepare(`SELECT * FROM tasks WHERE ${conditions.join(' AND ')} ORDER BY id LIMIT @limit`)
      .all({
        tenantId,
        after: decodeCursor(options.cursor),
        campaignId: filter.campaignId ?? null,
        status: filter.status ?? null,
        outcome: filter.outcome ?? null,
        limit: options.limit + 1,
      }) as TaskRow[];
    const items = rows.slice(0, options.limit).map(toTask);
    return { items, nextCursor: rows.length > options.limit ? encodeCursor(items.at(-1)!.id) : null };
  }

  async cancel(tenantId: string, id: string, nowMs: number): Promise<Task> {
    const result = this.db
      .prepare(
        `UPDATE tasks SET status = 'cancelled', version = version + 1, updated_at = ?
         WHERE id = ? AND tenant_id = ? AND status = 'queued'`,
      )
      .run(nowMs, id, tenantId);
    const row = this.db.prepare('SELECT * FROM tasks WHERE id = ? AND tenant_id = ?').get(id, tenantId) as
      | TaskRow
      | undefined;
    if (!row) throw new NotFoundError(`task ${id} not found`);
    if (result.changes === 0) {
      throw new ConflictError(
        `task is ${row.status}; only a queued task can be cancelled`,
        'task_not_cancellable',
      );
    }
    return toTask(row);
  }
}
