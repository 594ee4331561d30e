import {
  AUDIT_GENESIS,
  type AuditCheckpoint,
  type AuditDraft,
  type AuditEntry,
  type AuditRepository,
} from '../contract.js';
import type { SqliteDatabase } from './database.js';

interface AuditRow {
  seq: number;
  id: string;
  at: number;
  actor: string;
  tenant_id: string | null;
  source_ip: string | null;
  action: string;
  target: string | null;
  before: string | null;
  after: string | null;
  prev_hash: string;
  hash: string;
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    seq: row.seq,
    id: row.id,
    at: row.at,
    actor: row.actor,
    tenantId: row.tenant_id,
    sourceIp: row.source_ip,
    action: row.action,
    target: row.target,
    before: row.before,
    after: row.after,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

interface CheckpointRow {
  through_seq: number;
  through_hash: string;
  pruned: number;
  at: number;
}

function toCheckpoint(row: CheckpointRow): AuditCheckpoint {
  return { throughSeq: row.through_seq, throughHash: row.through_hash, pruned: row.pruned, at: row.at };
}

export class SqliteAuditLog implements AuditRepository {
  constructor(private readonly db: SqliteDatabase) {}

  async append(draft: AuditDraft, seal: (entry: Omit<AuditEntry, 'hash'>) => string): Promise<AuditEntry> {
    // IMMEDIATE: a second writer on the same file waits, so two entries never share a predecessor.
    return this.db
      .transaction(() => {
        const head = this.headNow() ?? this.checkpointHead();
        const unsealed = { ...draft, seq: (head?.seq ?? 0) + 1, prevHash: head?.hash ?? AUDIT_GENESIS };
        const entry: AuditEntry = { ...unsealed, hash: seal(unsealed) };
        this.db
          .prepare(
            `INSERT INTO audit_log (seq, id, at, actor, tenant_id, source_ip, action, target, before, after, prev_hash, hash)
             VALUES (@seq, @id, @at, @actor, @tenantId, @sourceIp, @action, @target, @before, @after, @prevHash, @hash)`,
          )
          .run(entry);
        this.db
          .prepare(
            `INSERT INTO audit_head (one, seq, hash) VALUES (1, @seq, @hash)
             ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
          )
          .run(entry);
        return entry;
      })
      .immediate();
  }

  private headNow(): { seq: number; hash: string } | undefined {
    return this.db.prepare('SELECT seq, hash FROM audit_head WHERE one = 1').get() as
      | { seq: number; hash: string }
      | undefined;
  }

  private checkpointHead(): { seq: number; hash: string } | undefined {
    const checkpoint = this.checkpointNow();
    return checkpoint && { seq: checkpoint.throughSeq, hash: checkpoint.throughHash };
  }

  private checkpointNow(): AuditCheckpoint | undefined {
    const row = this.db.prepare('SELECT * FROM audit_checkpoints ORDER BY through_seq DESC LIMIT 1').get() as
      | CheckpointRow
      | undefined;
    return row && toCheckpoint(row);
  }

  async list(filter: { tenantId?: string; afterSeq?: number; limit: number }): Promise<AuditEntry[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM audit_log WHERE seq > @after AND (@tenantId IS NULL OR tenant_id = @tenantId)
         ORDER BY seq LIMIT @limit`,
      )
      .all({
        after: filter.afterSeq ?? 0,
        tenantId: filter.tenantId ?? null,
        limit: filter.limit,
      }) as AuditRow[];
    return rows.map(toEntry);
  }

  async head(): Promise<{ seq: number; hash: string } | undefined> {
    return this.headNow();
  }

  async checkpoint(): Promise<AuditCheckpoint | undefined> {
    return this.checkpointNow();
  }

  async prune(beforeMs: number, nowMs: number): Promise<AuditCheckpoint | undefined> {
    return this.db
      .transaction(() => {
        // Entries are appended in time order, so "older than" is a prefix of the chain.
        const last = this.db
          .prepare(
            `SELECT seq, hash FROM audit_log WHERE seq <= (
               SELECT COALESCE(MAX(seq), 0) FROM audit_log WHERE at < ?
             ) ORDER BY seq DESC LIMIT 1`,
          )
          .get(beforeMs) as { seq: number; hash: string } | undefined;
        if (!last) return undefined;
        const count = (
          this.db.prepare('SELECT COUNT(*) AS n FROM audit_log WHERE seq <= ?').get(last.seq) as { n: number }
        ).n;
        this.db
          .prepare(
            'INSERT INTO audit_checkpoints (through_seq, through_hash, pruned, at) VALUES (?, ?, ?, ?)',
          )
          .run(last.seq, last.hash, count, nowMs);
        this.db.prepare('DELETE FROM audit_log WHERE seq <= ?').run(last.seq);
        return { throughSeq: last.seq, throughHash: last.hash, pruned: count, at: nowMs };
      })
      .immediate();
  }
}
