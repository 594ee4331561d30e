import {
  AUDIT_GENESIS,
  type AuditCheckpoint,
  type AuditDraft,
  type AuditEntry,
  type AuditRepository,
} from '../contract.js';
import type { PgDatabase, Queryable } from './database.js';

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

type Head = { seq: number; hash: string };

/**
 * The hash-chained audit log on PostgreSQL. Every append locks the one `audit_head` row
 * (SELECT … FOR UPDATE) for its transaction: appends from any number of processes queue on that
 * row, each reads the head its predecessor committed, so the chain never forks and `seq` has no
 * gap. Prune takes the same lock. The head row exists from the migration on; `seq` 0 there means
 * nothing was ever written.
 */
export class PgAuditLog implements AuditRepository {
  constructor(private readonly db: PgDatabase) {}

  async append(draft: AuditDraft, seal: (entry: Omit<AuditEntry, 'hash'>) => string): Promise<AuditEntry> {
    return this.db.transaction(async (client) => {
      const head = (await lockHead(client)) ?? (await checkpointNow(client));
      const unsealed = {
        ...draft,
        seq: (head ? head.seq : 0) + 1,
        prevHash: head ? head.hash : AUDIT_GENESIS,
      };
      const entry: AuditEntry = { ...unsealed, hash: seal(unsealed) };
      await client.query(
        `INSERT INTO audit_log (seq, id, at, actor, tenant_id, source_ip, action, target, before, after, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          entry.seq,
          entry.id,
          entry.at,
          entry.actor,
          entry.tenantId,
          entry.sourceIp,
          entry.action,
          entry.target,
          entry.before,
          entry.after,
          entry.prevHash,
          entry.hash,
        ],
      );
      await client.query('UPDATE audit_head SET seq = $1, hash = $2 WHERE one = 1', [entry.seq, entry.hash]);
      return entry;
    });
  }

  async list(filter: { tenantId?: string; afterSeq?: number; limit: number }): Promise<AuditEntry[]> {
    const after = filter.afterSeq ?? 0;
    // Two statements rather than `$2 IS NULL OR tenant_id = $2`, so each has its own index plan.
    const { rows } =
      filter.tenantId === undefined
        ? await this.db.query<AuditRow>('SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2', [
            after,
            filter.limit,
          ])
        : await this.db.query<AuditRow>(
            'SELECT * FROM audit_log WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
            [filter.tenantId, after, filter.limit],
          );
    return rows.map(toEntry);
  }

  async head(): Promise<Head | undefined> {
    const { rows } = await this.db.query<Head>('SELECT seq, hash FROM audit_head WHERE one = 1 AND seq > 0');
    return rows[0];
  }

  async checkpoint(): Promise<AuditCheckpoint | undefined> {
    const { rows } = await this.db.query<CheckpointRow>(
      'SELECT * FROM audit_checkpoints ORDER BY through_seq DESC LIMIT 1',
    );
    return rows[0] && toCheckpoint(rows[0]);
  }

  async prune(beforeMs: number, nowMs: number): Promise<AuditCheckpoint | undefined> {
    return this.db.transaction(async (client) => {
      // Under the head's lock: no append or other prune moves the chain meanwhile.
      await lockHead(client);
      // Entries are appended in time order, so "older than" is a prefix of the chain.
      const { rows } = await client.query<Head>(
        `SELECT seq, hash FROM audit_log WHERE seq <= (
           SELECT COALESCE(MAX(seq), 0) FROM audit_log WHERE at < $1
         ) ORDER BY seq DESC LIMIT 1`,
        [beforeMs],
      );
      const last = rows[0];
      if (!last) return undefined;
      const { rows: counted } = await client.query<{ n: number }>(
        'SELECT COUNT(*) AS n FROM audit_log WHERE seq <= $1',
        [last.seq],
      );
      const pruned = counted[0]!.n;
      // The checkpoint first: the delete trigger lets go only of entries at or before it.
      await client.query(
        'INSERT INTO audit_checkpoints (through_seq, through_hash, pruned, at) VALUES ($1, $2, $3, $4)',
        [last.seq, last.hash, pruned, nowMs],
      );
      await client.query('DELETE FROM audit_log WHERE seq <= $1', [last.seq]);
      return { throughSeq: last.seq, throughHash: last.hash, pruned, at: nowMs };
    });
  }
}

/**
 * Locks the head row for the rest of the transaction and returns the head, or undefined when
 * nothing was ever appended. A head row someone deleted is put back first, so there is always a
 * row to queue on.
 */
async function lockHead(client: Queryable): Promise<Head | undefined> {
  const select = 'SELECT seq, hash FROM audit_head WHERE one = 1 FOR UPDATE';
  let { rows } = await client.query<Head>(select);
  if (!rows[0]) {
    await client.query(
      'INSERT INTO audit_head (one, seq, hash) VALUES (1, 0, $1) ON CONFLICT (one) DO NOTHING',
      [AUDIT_GENESIS],
    );
    ({ rows } = await client.query<Head>(select));
  }
  const head = rows[0]!;
  return head.seq > 0 ? head : undefined;
}

async function checkpointNow(client: Queryable): Promise<Head | undefined> {
  const { rows } = await client.query<CheckpointRow>(
    'SELECT through_seq, through_hash FROM audit_checkpoints ORDER BY through_seq DESC LIMIT 1',
  );
  return rows[0] && { seq: rows[0].through_seq, hash: rows[0].through_hash };
}
