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
import type { PgDatabase, Queryable } from './database.js';
import { type AttemptRow, decodeCursor, encodeCursor, type TaskRow, toAttempt, toTask } from './rows.js';

const INSERT_TASKS = `
  INSERT INTO tasks (id, tenant_id, campaign_id, number_sealed, number_index, number_masked, variables, priority,
    not_before, expires_at, status, version, attempt_count, not_dialed_count, outcome, external_ref, created_at, updated_at)
  SELECT id, tenant_id, campaign_id, number_sealed, number_index, number_masked, variables, priority,
    not_before, expires_at, 'queued', 1, 0, 0, NULL, external_ref, $12, $12
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[],
    $9::bigint[], $10::bigint[], $11::text[])
    AS t(id, tenant_id, campaign_id, number_sealed, number_index, number_masked, variables, priority,
      not_before, expires_at, external_ref)`;

/** Which of these (campaign, number) pairs already have an open task. */
const OPEN_NUMBERS = `
  SELECT DISTINCT t.campaign_id, t.number_index
  FROM unnest($1::text[], $2::text[]) AS n(campaign_id, number_index)
  JOIN tasks t ON t.campaign_id = n.campaign_id AND t.number_index = n.number_index
  WHERE t.status IN ('queued', 'dialing')`;

function numberKey(campaignId: string, numberIndex: string): string {
  return `${campaignId}\u0000${numberIndex}`;
}

export class PgTasks implements TaskRepository {
  constructor(private readonly db: PgDatabase) {}

  /**
   * One multi-row insert (arrays through `unnest`) whatever the batch size. With skipDuplicates,
   * the open numbers are read in one query under a per-campaign advisory lock held to commit, so
   * two concurrent batches cannot both insert the same number (SQLite gets this from its single
   * writer).
   */
  async insertMany(
    tasks: NewTask[],
    options: { skipDuplicates: boolean; nowMs: number },
  ): Promise<{ duplicates: number[] }> {
    if (tasks.length === 0) return { duplicates: [] };
    return this.db.transaction(async (client) => {
      const duplicates: number[] = [];
      let accepted = tasks;
      if (options.skipDuplicates) {
        const open = await openNumbers(client, tasks);
        const seen = new Set<string>();
        accepted = tasks.filter((task, index) => {
          const key = numberKey(task.campaignId, task.numberIndex);
          if (seen.has(key) || open.has(key)) {
            duplicates.push(index);
            return false;
          }
          seen.add(key);
          return true;
        });
      }
      if (accepted.length > 0) {
        await client.query(INSERT_TASKS, [
          accepted.map((t) => t.id),
          accepted.map((t) => t.tenantId),
          accepted.map((t) => t.campaignId),
          accepted.map((t) => t.numberSealed),
          accepted.map((t) => t.numberIndex),
          accepted.map((t) => t.numberMasked),
          accepted.map((t) => JSON.stringify(t.variables)),
          accepted.map((t) => t.priority),
          accepted.map((t) => t.notBefore),
          accepted.map((t) => t.expiresAt),
          accepted.map((t) => t.externalRef),
          options.nowMs,
        ]);
      }
      return { duplicates };
    });
  }

  async get(tenantId: string, id: string): Promise<(Task & { attempts: Attempt[] }) | undefined> {
    const { rows } = await this.db.query<TaskRow>('SELECT * FROM tasks WHERE id = $1 AND tenant_id = $2', [
      id,
      tenantId,
    ]);
    if (!rows[0]) return undefined;
    const attempts = await this.db.query<AttemptRow>(
      'SELECT * FROM attempts WHERE task_id = $1 ORDER BY created_at, id',
      [id],
    );
    return { ...toTask(rows[0]), attempts: attempts.rows.map(toAttempt) };
  }

  async list(
    tenantId: string,
    filter: TaskFilter,
    options: { cursor?: string; limit: number },
  ): Promise<Page<Task>> {
    const values: unknown[] = [tenantId, decodeCursor(options.cursor), options.limit + 1];
    const conditions = ['tenant_id = $1', 'id > $2'];
    const where = (column: string, value: string | undefined) => {
      if (!value) return;
      values.push(value);
      conditions.push(`${column} = $${values.length}`);
    };
    where('campaign_id', filter.campaignId);
    where('status', filter.status);
    where('outcome', filter.outcome);
    const { rows } = await this.db.query<TaskRow>(
      `SELECT * FROM tasks WHERE ${conditions.join(' AND ')} ORDER BY id LIMIT $3`,
      values,
    );
    const items = rows.slice(0, options.limit).map(toTask);
    return { items, nextCursor: rows.length > options.limit ? encodeCursor(items.at(-1)!.id) : null };
  }

  async cancel(tenantId: string, id: string, nowMs: number): Promise<Task> {
    const cancelled = await this.db.query<TaskRow>(
      `UPDATE tasks SET status = 'cancelled', version = version + 1, updated_at = $3
       WHERE id = $1 AND tenant_id = $2 AND status = 'queued' RETURNING *`,
      [id, tenantId, nowMs],
    );
    if (cancelled.rows[0]) return toTask(cancelled.rows[0]);
    const { rows } = await this.db.query<{ status: string }>(
      'SELECT status FROM tasks WHERE id = $1 AND tenant_id = $2',
      [id, tenantId],
    );
    if (!rows[0]) throw new NotFoundError(`task ${id} not found`);
    throw new ConflictError(
      `task is ${rows[0].status}; only a queued task can be cancelled`,
      'task_not_cancellable',
    );
  }
}

/** Locks the batch's campaigns for intake (in a fixed order), then reads their open numbers. */
async function openNumbers(client: Queryable, tasks: NewTask[]): Promise<Set<string>> {
  const campaigns = [...new Set(tasks.map((t) => t.campaignId))].sort();
  for (const campaignId of campaigns) {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`switchboard:intake:${campaignId}`]);
  }
  const pairs = new Map<string, [string, string]>();
  for (const t of tasks) pairs.set(numberKey(t.campaignId, t.numberIndex), [t.campaignId, t.numberIndex]);
  const { rows } = await client.query<{ campaign_id: string; number_index: string }>(OPEN_NUMBERS, [
    [...pairs.values()].map(([campaignId]) => campaignId),
    [...pairs.values()].map(([, numberIndex]) => numberIndex),
  ]);
  return new Set(rows.map((row) => numberKey(row.campaign_id, row.number_index)));
}
