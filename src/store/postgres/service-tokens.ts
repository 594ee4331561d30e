import { NotFoundError, type ServiceTokenRecord, type ServiceTokenRepository } from '../contract.js';
import type { PgDatabase } from './database.js';

interface ServiceTokenRow {
  id: string;
  role: string;
  name: string;
  token_hash: string;
  token_prefix: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

function toRecord(row: ServiceTokenRow): ServiceTokenRecord {
  return {
    id: row.id,
    role: row.role,
    name: row.name,
    tokenHash: row.token_hash,
    tokenPrefix: row.token_prefix,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

export class PgServiceTokens implements ServiceTokenRepository {
  constructor(private readonly db: PgDatabase) {}

  async create(record: Omit<ServiceTokenRecord, 'revokedAt' | 'lastUsedAt'>): Promise<ServiceTokenRecord> {
    const { rows } = await this.db.query<ServiceTokenRow>(
      `INSERT INTO service_tokens (id, role, name, token_hash, token_prefix, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [record.id, record.role, record.name, record.tokenHash, record.tokenPrefix, record.createdAt],
    );
    return toRecord(rows[0]!);
  }

  async findByHash(tokenHash: string): Promise<ServiceTokenRecord | undefined> {
    const { rows } = await this.db.query<ServiceTokenRow>(
      'SELECT * FROM service_tokens WHERE token_hash = $1',
      [tokenHash],
    );
    return rows[0] && toRecord(rows[0]);
  }

  async list(): Promise<ServiceTokenRecord[]> {
    const { rows } = await this.db.query<ServiceTokenRow>('SELECT * FROM service_tokens ORDER BY id');
    return rows.map(toRecord);
  }

  async revoke(id: string, nowMs: number): Promise<ServiceTokenRecord> {
    const { rows } = await this.db.query<ServiceTokenRow>(
      'UPDATE service_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING *',
      [nowMs, id],
    );
    if (!rows[0]) throw new NotFoundError(`service token ${id} not found`);
    return toRecord(rows[0]);
  }

  async touch(id: string, nowMs: number): Promise<void> {
    await this.db.query('UPDATE service_tokens SET last_used_at = $1 WHERE id = $2', [nowMs, id]);
  }
}
