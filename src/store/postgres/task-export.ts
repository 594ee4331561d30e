import type { ExportedTask, TaskExportRepository } from '../contract.js';
import type { PgDatabase } from './database.js';

interface ExportRow {
  id: string;
  number_sealed: string;
  status: string;
  outcome: string | null;
  attempt_count: number;
  external_ref: string | null;
}

/**
 * The audited export reads a campaign's tasks in id-ordered pages, never all at once (index
 * `tasks_by_campaign (tenant_id, campaign_id, id)`; ids compare byte-wise, as in SQLite).
 */
export class PgTaskExport implements TaskExportRepository {
  constructor(private readonly db: PgDatabase) {}

  async count(tenantId: string, campaignId: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM tasks WHERE tenant_id = $1 AND campaign_id = $2',
      [tenantId, campaignId],
    );
    return rows[0]!.n;
  }

  async page(tenantId: string, campaignId: string, afterId: string, limit: number): Promise<ExportedTask[]> {
    const { rows } = await this.db.query<ExportRow>(
      `SELECT id, number_sealed, status, outcome, attempt_count, external_ref FROM tasks
       WHERE tenant_id = $1 AND campaign_id = $2 AND id > $3 ORDER BY id LIMIT $4`,
      [tenantId, campaignId, afterId, limit],
    );
    return rows.map((row) => ({
      id: row.id,
      numberSealed: row.number_sealed,
      status: row.status,
      outcome: row.outcome,
      attemptCount: row.attempt_count,
      externalRef: row.external_ref,
    }));
  }
}
