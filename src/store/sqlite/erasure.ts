import { type ErasureReport, type ErasureRepository, type ErasureScope, NotFoundError } from '../contract.js';
import type { SqliteDatabase } from './database.js';

/**
 * Erasure (GDPR-style) of the rows that hold numbers: tasks (sealed number, blind index, mask),
 * their attempts and their attempts' call records. Deleted rows would otherwise survive as bytes in free pages and in the
 * WAL, so the delete runs with `secure_delete` (freed content is zeroed) and the WAL is then
 * checkpointed and truncated.
 */
export class SqliteErasure implements ErasureRepository {
  constructor(private readonly db: SqliteDatabase) {}

  async erase(scope: ErasureScope, options: { suppress: boolean; nowMs: number }): Promise<ErasureReport> {
    const where = this.taskCondition(scope);
    this.db.pragma('secure_delete = ON');
    let report: ErasureReport;
    try {
      report = this.db
        .transaction((): ErasureReport => {
          if (scope.kind === 'task') {
            const found = this.db.prepare(`SELECT 1 FROM tasks WHERE ${where.sql}`).get(where.params);
            if (!found) throw new NotFoundError(`task ${scope.taskId} not found`);
          }
          let suppressed = 0;
          if (options.suppress) {
            suppressed = this.db
              .prepare(
                `INSERT OR IGNORE INTO suppressions (tenant_id, number_index, created_at)
                 SELECT DISTINCT tenant_id, number_index, @now FROM tasks WHERE ${where.sql}`,
              )
              .run({ ...where.params, now: options.nowMs }).changes;
            if (scope.kind === 'number') {
              // Suppressed even when no task holds it (any more): that is what was asked.
              suppressed += this.db
                .prepare(
                  'INSERT OR IGNORE INTO suppressions (tenant_id, number_index, created_at) VALUES (?, ?, ?)',
                )
                .run(scope.tenantId, scope.numberIndex, options.nowMs).changes;
            }
          }
          // A call record holds no number, but the times of a call by its attempt: it goes too.
          const callRecords = this.db
            .prepare(
              `DELETE FROM call_records WHERE call_uuid IN
                 (SELECT id FROM attempts WHERE task_id IN (SELECT id FROM tasks WHERE ${where.sql}))`,
            )
            .run(where.params).changes;
          const attempts = this.db
            .prepare(`DELETE FROM attempts WHERE task_id IN (SELECT id FROM tasks WHERE ${where.sql})`)
            .run(where.params).changes;
          const tasks = this.db.prepare(`DELETE FROM tasks WHERE ${where.sql}`).run(where.params).changes;
          const campaignsCancelled =
            scope.kind === 'tenant'
              ? this.db
                  .prepare(
                    `UPDATE campaigns SET status = 'cancelled', version = version + 1, updated_at = ?
                     WHERE tenant_id = ? AND status <> 'cancelled'`,
                  )
                  .run(options.nowMs, scope.tenantId).changes
              : 0;
          return { tasks, attempts, callRecords, campaignsCancelled, suppressed };
        })
        .immediate();
    } finally {
      this.db.pragma('secure_delete = OFF');
    }
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    return report;
  }

  private taskCondition(scope: ErasureScope): { sql: string; params: Record<string, string> } {
    switch (scope.kind) {
      case 'number':
        return {
          sql: 'tenant_id = @tenantId AND number_index = @numberIndex',
          params: { tenantId: scope.tenantId, numberIndex: scope.numberIndex },
        };
      case 'task':
        return {
          sql: 'tenant_id = @tenantId AND id = @taskId',
          params: { tenantId: scope.tenantId, taskId: scope.taskId },
        };
      case 'tenant':
        return { sql: 'tenant_id = @tenantId', params: { tenantId: scope.tenantId } };
    }
  }

  async suppressed(tenantId: string, numberIndexes: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    if (numberIndexes.length === 0) return found;
    const lookup = this.db.prepare('SELECT 1 FROM suppressions WHERE tenant_id = ? AND number_index = ?');
    for (const index of new Set(numberIndexes)) if (lookup.get(tenantId, index)) found.add(index);
    return found;
  }
}
