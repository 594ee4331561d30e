import type { Outcome } from '../../domain/outcome.js';
import type { Campaign, CampaignStatus } from '../../domain/resources.js';
import { TASK_STATUSES, type TaskStatus } from '../../domain/task.js';
import {
  type CampaignInput,
  type CampaignRepository,
  type CampaignStats,
  ConflictError,
  NotFoundError,
  type Page,
} from '../contract.js';
import { isForeignKeyViolation, type PgDatabase, type Queryable } from './database.js';
import { type CampaignRow, decodeCursor, encodeCursor, toCampaign } from './rows.js';

/** Campaigns, always read and written under their tenant (only `listActive` spans tenants). */
export class PgCampaigns implements CampaignRepository {
  constructor(private readonly db: PgDatabase) {}

  async create(input: CampaignInput, nowMs: number): Promise<Campaign> {
    await this.db.transaction(async (client) => {
      await client.query(
        `INSERT INTO campaigns (id, tenant_id, name, status, weight, default_region, caller_id, retry_policy,
           ring_timeout_sec, max_call_duration_sec, caps, max_concurrent, schedule, selection_strategy,
           created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, 1)`,
        [
          input.id,
          input.tenantId,
          input.name,
          input.status ?? 'active',
          input.weight,
          input.defaultRegion,
          input.callerId,
          JSON.stringify(input.retryPolicy),
          input.ringTimeoutSec,
          input.maxCallDurationSec,
          input.caps,
          input.maxConcurrent,
          input.schedule ? JSON.stringify(input.schedule) : null,
          input.selectionStrategy ?? 'answer_rate_first',
          nowMs,
        ],
      );
      await writeLines(client, input.id, input.lineIds);
    });
    return (await this.get(input.tenantId, input.id))!;
  }

  /** The line ids of many campaigns in one query, each list in its campaign's order. */
  private async lineIdsOf(campaignIds: string[]): Promise<Map<string, string[]>> {
    const byCampaign = new Map<string, string[]>();
    if (campaignIds.length === 0) return byCampaign;
    const { rows } = await this.db.query<{ campaign_id: string; line_id: string }>(
      `SELECT campaign_id, line_id FROM campaign_lines WHERE campaign_id = ANY($1::text[])
       ORDER BY campaign_id, position`,
      [campaignIds],
    );
    for (const row of rows) {
      const list = byCampaign.get(row.campaign_id);
      if (list) list.push(row.line_id);
      else byCampaign.set(row.campaign_id, [row.line_id]);
    }
    return byCampaign;
  }

  private async withLines(rows: CampaignRow[]): Promise<Campaign[]> {
    const lineIds = await this.lineIdsOf(rows.map((row) => row.id));
    return rows.map((row) => toCampaign(row, lineIds.get(row.id) ?? []));
  }

  async get(tenantId: string, id: string): Promise<Campaign | undefined> {
    const { rows } = await this.db.query<CampaignRow>(
      'SELECT * FROM campaigns WHERE id = $1 AND tenant_id = $2',
      [id, tenantId],
    );
    return (await this.withLines(rows))[0];
  }

  async list(tenantId: string, options: { cursor?: string; limit: number }): Promise<Page<Campaign>> {
    const { rows } = await this.db.query<CampaignRow>(
      'SELECT * FROM campaigns WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [tenantId, decodeCursor(options.cursor), options.limit + 1],
    );
    const items = await this.withLines(rows.slice(0, options.limit));
    return { items, nextCursor: rows.length > options.limit ? encodeCursor(items.at(-1)!.id) : null };
  }

  async update(
    tenantId: string,
    id: string,
    patch: Partial<Omit<CampaignInput, 'id' | 'tenantId'>>,
    expectedVersion: number | undefined,
    nowMs: number,
  ): Promise<Campaign> {
    const current = await this.get(tenantId, id);
    if (!current) throw new NotFoundError(`campaign ${id} not found`);
    if (expectedVersion !== undefined && current.version !== expectedVersion) {
      throw new ConflictError(`campaign changed since version ${expectedVersion}`, 'version_conflict');
    }
    const next = { ...current, ...patch };
    await this.db.transaction(async (client) => {
      const result = await client.query(
        `UPDATE campaigns SET name = $4, weight = $5, default_region = $6, caller_id = $7, retry_policy = $8,
           ring_timeout_sec = $9, max_call_duration_sec = $10, caps = $11, max_concurrent = $12, schedule = $13,
           selection_strategy = $14, updated_at = $15, version = version + 1
         WHERE id = $1 AND tenant_id = $2 AND version = $3`,
        [
          id,
          tenantId,
          current.version,
          next.name,
          next.weight,
          next.defaultRegion,
          next.callerId,
          JSON.stringify(next.retryPolicy),
          next.ringTimeoutSec,
          next.maxCallDurationSec,
          next.caps,
          next.maxConcurrent,
          next.schedule ? JSON.stringify(next.schedule) : null,
          next.selectionStrategy,
          nowMs,
        ],
      );
      if (result.rowCount !== 1) throw new ConflictError('campaign changed concurrently', 'version_conflict');
      if (patch.lineIds) {
        await client.query('DELETE FROM campaign_lines WHERE campaign_id = $1', [id]);
        await writeLines(client, id, patch.lineIds);
      }
    });
    return (await this.get(tenantId, id))!;
  }

  async setStatus(tenantId: string, id: string, status: CampaignStatus, nowMs: number): Promise<Campaign> {
    const current = await this.get(tenantId, id);
    if (!current) throw new NotFoundError(`campaign ${id} not found`);
    if (current.status === 'cancelled' && status !== 'cancelled') {
      throw new ConflictError('a cancelled campaign cannot be resumed', 'campaign_cancelled');
    }
    await this.db.transaction(async (client) => {
      await client.query(
        'UPDATE campaigns SET status = $3, updated_at = $4, version = version + 1 WHERE id = $1 AND tenant_id = $2',
        [id, tenantId, status, nowMs],
      );
      if (status === 'cancelled') {
        await client.query(
          `UPDATE tasks SET status = 'cancelled', version = version + 1, updated_at = $2
           WHERE campaign_id = $1 AND status = 'queued'`,
          [id, nowMs],
        );
      }
    });
    return (await this.get(tenantId, id))!;
  }

  async listActive(): Promise<Campaign[]> {
    const { rows } = await this.db.query<CampaignRow>(
      `SELECT * FROM campaigns WHERE status = 'active' ORDER BY id`,
    );
    return this.withLines(rows);
  }

  async stats(tenantId: string, id: string): Promise<CampaignStats> {
    if (!(await this.get(tenantId, id))) throw new NotFoundError(`campaign ${id} not found`);
    const byStatus = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
    const statuses = await this.db.query<{ status: TaskStatus; n: number }>(
      'SELECT status, COUNT(*) AS n FROM tasks WHERE campaign_id = $1 GROUP BY status',
      [id],
    );
    for (const row of statuses.rows) byStatus[row.status] = row.n;
    const byOutcome: Partial<Record<Outcome, number>> = {};
    const outcomes = await this.db.query<{ outcome: Outcome; n: number }>(
      'SELECT outcome, COUNT(*) AS n FROM tasks WHERE campaign_id = $1 AND outcome IS NOT NULL GROUP BY outcome',
      [id],
    );
    for (const row of outcomes.rows) byOutcome[row.outcome] = row.n;
    return { byStatus, byOutcome };
  }
}

/** Writes a campaign's lines in order; an unknown line is named in the error, as SQLite does. */
async function writeLines(client: Queryable, campaignId: string, lineIds: string[]): Promise<void> {
  const unique = [...new Set(lineIds)];
  if (unique.length === 0) return;
  const missing = await client.query<{ id: string }>(
    `SELECT l.id FROM unnest($1::text[]) WITH ORDINALITY AS l(id, position)
     WHERE NOT EXISTS (SELECT 1 FROM lines WHERE lines.id = l.id) ORDER BY l.position LIMIT 1`,
    [unique],
  );
  if (missing.rows[0]) throw new ConflictError(`line ${missing.rows[0].id} does not exist`, 'unknown_line');
  try {
    await client.query(
      `INSERT INTO campaign_lines (campaign_id, line_id, position)
       SELECT $1, l.id, l.position - 1 FROM unnest($2::text[]) WITH ORDINALITY AS l(id, position)`,
      [campaignId, unique],
    );
  } catch (error) {
    // A line deleted since the check above.
    if (isForeignKeyViolation(error))
      throw new ConflictError('a line of the campaign does not exist', 'unknown_line', { cause: error });
    throw error;
  }
}
