import type { ExportedTask, TaskExportRepository } from '../contract.js';
import type { SqliteDatabase } from './database.js';

interface ExportRow {
  id: string;
  number_sealed: string;
  status: string;
  outcome: string | null;
  attempt_count: number;
  external_ref: string | null;
}

/** The audited export reads a campaign's tasks in id-ordered pages, never all at once. */
export class SqliteTaskExport implements TaskExportRepository {
  private readonly countQuery;
  private readonly pageQuery;

  constructor(db: SqliteDatabase) {
    this.countQuery = db.prepare('SELECT COUNT(*) AS n FROM tasks WHERE tenant_id = ? AND campaign_id = ?');
    this.pageQuery = db.prepare(
      `SELECT id, number_sealed, status, outcome, attempt_count, external_ref FROM tasks
       WHERE tenant_id = ? AND campaign_id = ? AND id > ? ORDER BY id LIMIT ?`,
    );
  }

  async count(tenantId: string, campaignId: string): Promise<number> {
    return (this.countQuery.get(tenantId, campaignId) as { n: number }).n;
  }

  async page(tenantId: string, campaignId: string, afterId: string, limit: number): Promise<ExportedTask[]> {
    return (this.pageQuery.all(tenantId, campaignId, afterId, limit) as ExportRow[]).map((row) => ({
      id: row.id,
      numberSealed: row.number_sealed,
      status: row.status,
      outcome: row.outcome,
      attemptCount: row.attempt_count,
      externalRef: row.external_ref,
    }));
  }
}
