import { type ErasureReport, type ErasureRepository, type ErasureScope, NotFoundError } from '../contract.js';
import type { PgDatabase } from './database.js';

/**
 * Erasure (GDPR-style) of the rows that hold numbers: tasks (sealed number, blind index, mask)
 * and their attempts (the call records, in the month-partitioned `attempts`), with the
 * suppressions asked for, in one transaction — SQLite's semantics and report.
 *
 * Unlike SQLite's `secure_delete`, PostgreSQL cannot overwrite what it deletes: the old row
 * versions stay in the table's pages until VACUUM reuses the space, and in the WAL (and any
 * archive or replica fed from it) until those are recycled. What lingers there is ciphertext and
 * the keyed blind index, never a number in clear; docs/security.md says how to age it out.
 */
export class PgErasure implements ErasureRepository {
  constructor(private readonly db: PgDatabase) {}

  async erase(scope: ErasureScope, options: { suppress: boolean; nowMs: number }): Promise<ErasureReport> {
    const where = taskCondition(scope);
    return this.db.transaction(async (client): Promise<ErasureReport> => {
      if (scope.kind === 'task') {
        const found = await client.query(`SELECT 1 FROM tasks WHERE ${where.sql}`, where.params);
        if (found.rowCount === 0) throw new NotFoundError(`task ${scope.taskId} not found`);
      }
      let suppressed = 0;
      if (options.suppress) {
        const next = where.params.length + 1;
        suppressed =
          (
            await client.query(
              `INSERT INTO suppressions (tenant_id, number_index, created_at)
               SELECT DISTINCT tenant_id, number_index, $${next}::bigint FROM tasks WHERE ${where.sql}
               ON CONFLICT (tenant_id, number_index) DO NOTHING`,
              [...where.params, options.nowMs],
            )
          ).rowCount ?? 0;
        if (scope.kind === 'number') {
          // Suppressed even when no task holds it (any more): that is what was asked.
          suppressed +=
            (
              await client.query(
                `INSERT INTO suppressions (tenant_id, number_index, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (tenant_id, number_index) DO NOTHING`,
                [scope.tenantId, scope.numberIndex, options.nowMs],
              )
            ).rowCount ?? 0;
        }
      }
      // A call record holds no number, but the times of a call by its attempt: it goes too.
      const callRecords =
        (
          await client.query(
            `DELETE FROM call_records WHERE call_uuid IN
               (SELECT id FROM attempts WHERE task_id IN (SELECT id FROM tasks WHERE ${where.sql}))`,
            where.params,
          )
        ).rowCount ?? 0;
      // Attempts first, to count them (the cascade from tasks would take them silently).
      const attempts =
        (
          await client.query(
            `DELETE FROM attempts WHERE task_id IN (SELECT id FROM tasks WHERE ${where.sql})`,
            where.params,
          )
        ).rowCount ?? 0;
      const tasks = (await client.query(`DELETE FROM tasks WHERE ${where.sql}`, where.params)).rowCount ?? 0;
      const campaignsCancelled =
        scope.kind === 'tenant'
          ? ((
              await client.query(
                `UPDATE campaigns SET status = 'cancelled', version = version + 1, updated_at = $1
                 WHERE tenant_id = $2 AND status <> 'cancelled'`,
                [options.nowMs, scope.tenantId],
              )
            ).rowCount ?? 0)
          : 0;
      return { tasks, attempts, callRecords, campaignsCancelled, suppressed };
    });
  }

  async suppressed(tenantId: string, numberIndexes: readonly string[]): Promise<Set<string>> {
    if (numberIndexes.length === 0) return new Set();
    const { rows } = await this.db.query<{ number_index: string }>(
      'SELECT number_index FROM suppressions WHERE tenant_id = $1 AND number_index = ANY($2::text[])',
      [tenantId, [...new Set(numberIndexes)]],
    );
    return new Set(rows.map((row) => row.number_index));
  }
}

/** The tasks a scope covers, as a condition on `tasks` with its parameters ($1, $2). */
function taskCondition(scope: ErasureScope): { sql: string; params: string[] } {
  switch (scope.kind) {
    case 'number':
      return { sql: 'tenant_id = $1 AND number_index = $2', params: [scope.tenantId, scope.numberIndex] };
    case 'task':
      return { sql: 'tenant_id = $1 AND id = $2', params: [scope.tenantId, scope.taskId] };
    case 'tenant':
      return { sql: 'tenant_id = $1', params: [scope.tenantId] };
  }
}
