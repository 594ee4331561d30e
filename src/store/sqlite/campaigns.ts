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
import { decodeCursor, encodeCursor, isForeignKeyViolation, type SqliteDatabase } from './database.js';
import { type CampaignRow, toCampaign } from './rows.js';

export class SqliteCampaigns implements CampaignRepository {
  constructor(private readonly db: SqliteDatabase) {}

  async create(input: CampaignInput, nowMs: number): Promise<Campaign> {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO campaigns (id, tenant_id, name, status, weight, default_region, caller_id, retry_policy,
             ring_timeout_sec, max_call_duration_sec, caps, max_concurrent, schedule, selection_strategy,
             created_at, updated_at, version)
           VALUES (@id, @tenantId, @name, @status, @weight, @defaultRegion, @callerId, @retryPolicy,
             @ringTimeoutSec, @maxCallDurationSec, @caps, @maxConcurrent, @schedule, @selectionStrategy, @now, @now, 1)`,
        )
        .run({
          ...input,
          status: input.status ?? 'active',
          retryPolicy: JSON.stringify(input.retryPolicy),
          schedule: input.schedule ? JSON.stringify(input.schedule) : null,
          selectionStrategy: input.selectionStrategy ?? 'answer_rate_first',
          lineIds: undefined,
          now: nowMs,
        });
      this.writeLines(input.id, input.lineIds);
    })();
    return (await this.get(input.tenantId, input.id))!;
  }

  private writeLines(campaignId: string, lineIds: string[]): void {
    const insert = this.db.prepare(
      'INSERT INTO campaign_lines (campaign_id, line_id, position) VALUES (?, ?, ?)',
    );
    [...new Set(lineIds)].forEach((lineId, position) => {
      try {
        insert.run(campaignId, lineId, position);
      } catch (error) {
        if (isForeignKeyViolation(error))
          throw new ConflictError(`line ${lineId} does not exist`, 'unknown_line', { cause: error });
        throw error;
      }
    });
  }

  private lineIdsOf(campaignId: string): string[] {
    return (
      this.db
        .prepare('SELECT line_id FROM campaign_lines WHERE campaign_id = ? ORDER BY position')
        .all(campaignId) as {
        line_id: string;
      }[]
    ).map((r) => r.line_id);
  }

  async get(tenantId: string, id: string): Promise<Campaign | undefined> {
    const row = this.db.prepare('SELECT * FROM campaigns WHERE id = ? AND tenant_id = ?').get(id, tenantId) as
      | CampaignRow
      | undefined;
    return row && toCampaign(row, this.lineIdsOf(id));
  }

  async list(tenantId: string, options: { cursor?: string; limit: number }): Promise<Page<Campaign>> {
    const rows = this.db
      .prepare('SELECT * FROM campaigns WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?')
      .all(tenantId, decodeCursor(options.cursor), options.limit + 1) as CampaignRow[];
    const items = rows.slice(0, options.limit).map((row) => toCampaign(row, this.lineIdsOf(row.id)));
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
    this.db.transaction(() => {
      const result = this.db
        .prepare(
          `UPDATE campaigns SET name=@name, weight=@weight, default_region=@defaultRegion, caller_id=@callerId,
             retry_policy=@retryPolicy, ring_timeout_sec=@ringTimeoutSec, max_call_duration_sec=@maxCallDurationSec,
             caps=@caps, max_concurrent=@maxConcurrent, schedule=@schedule, selection_strategy=@selectionStrategy,
             updated_at=@now, version=version+1
           WHERE id=@id AND version=@version`,
        )
        .run({
          id,
          name: next.name,
          weight: next.weight,
          defaultRegion: next.defaultRegion,
          callerId: next.callerId,
          retryPolicy: JSON.stringify(next.retryPolicy),
          ringTimeoutSec: next.ringTimeoutSec,
          maxCallDurationSec: next.maxCallDurationSec,
          caps: next.caps,
          maxConcurrent: next.maxConcurrent,
          schedule: next.schedule ? JSON.stringify(next.schedule) : null,
          selectionStrategy: next.selectionStrategy,
          now: nowMs,
          version: current.version,
        });
      if (result.changes !== 1) throw new ConflictError('campaign changed concurrently', 'version_conflict');
      if (patch.lineIds) {
        this.db.prepare('DELETE FROM campaign_lines WHERE campaign_id = ?').run(id);
        this.writeLines(id, patch.lineIds);
      }
    })();
    return (await this.get(tenantId, id))!;
  }

  async setStatus(tenantId: string, id: string, status: CampaignStatus, nowMs: number): Promise<Campaign> {
    const current = await this.get(tenantId, id);
    if (!current) throw new NotFoundError(`campaign ${id} not found`);
    if (current.status === 'cancelled' && status !== 'cancelled') {
      throw new ConflictError('a cancelled campaign cannot be resumed', 'campaign_cancelled');
    }
    this.db.transaction(() => {
      this.db
        .prepare('UPDATE campaigns SET status = ?, updated_at = ?, version = version + 1 WHERE id = ?')
        .run(status, nowMs, id);
      if (status === 'cancelled') {
        this.db
          .prepare(
            `UPDATE tasks SET status = 'cancelled', version = version + 1, updated_at = ?
             WHERE campaign_id = ? AND status = 'queued'`,
          )
          .run(nowMs, id);
      }
    })();
    return (await this.get(tenantId, id))!;
  }

  async listActive(): Promise<Campaign[]> {
    const rows = this.db
      .prepare(`SELECT * FROM campaigns WHERE status = 'active' ORDER BY id`)
      .all() as CampaignRow[];
    return rows.map((row) => toCampaign(row, this.lineIdsOf(row.id)));
  }

  async stats(tenantId: string, id: string): Promise<CampaignStats> {
    if (!(await this.get(tenantId, id))) throw new NotFoundError(`campaign ${id} not found`);
    const byStatus = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
    for (const row of this.db
      .prepare('SELECT status, COUNT(*) AS n FROM tasks WHERE campaign_id = ? GROUP BY status')
      .all(id) as { status: TaskStatus; n: number }[]) {
      byStatus[row.status] = row.n;
    }
    const byOutcome: Partial<Record<Outcome, number>> = {};
    for (const row of this.db
      .prepare(
        'SELECT outcome, COUNT(*) AS n FROM tasks WHERE campaign_id = ? AND outcome IS NOT NULL GROUP BY outcome',
      )
      .all(id) as { outcome: Outcome; n: number }[]) {
      byOutcome[row.outcome] = row.n;
    }
    return { byStatus, byOutcome };
  }
}
