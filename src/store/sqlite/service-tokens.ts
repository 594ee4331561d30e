import { NotFoundError, type ServiceTokenRecord, type ServiceTokenRepository } from '../contract.js';
import type { SqliteDatabase } from './database.js';

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

export class SqliteServiceTokens implements ServiceTokenRepository {
  constructor(private readonly db: SqliteDatabase) {}

  async create(record: Omit<ServiceTokenRecord, 'revokedAt' | 'lastUsedAt'>): Promise<ServiceTokenRecord> {
    this.db
      .prepare(
        `INSERT INTO service_tokens (id, role, name, token_hash, token_prefix, created_at)
         VALUES (@id, @role, @name, @tokenHash, @tokenPrefix, @createdAt)`,
      )
      .run(record);
    return (await this.get(record.id))!;
  }

  private async get(id: string): Promise<ServiceTokenRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM service_tokens WHERE id = ?').get(id) as
      | ServiceTokenRow
      | undefined;
    return row && toRecord(row);
  }

  async findByHash(tokenHash: string): Promise<ServiceTokenRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM service_tokens WHERE token_hash = ?').get(tokenHash) as
      | ServiceTokenRow
      | undefined;
    return row && toRecord(row);
  }

  async list(): Promise<ServiceTokenRecord[]> {
    return (this.db.prepare('SELECT * FROM service_tokens ORDER BY id').all() as ServiceTokenRow[]).map(
      toRecord,
    );
  }

  async revoke(id: string, nowMs: number): Promise<ServiceTokenRecord> {
    this.db
      .prepare('UPDATE service_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?')
      .run(nowMs, id);
    const record = await this.get(id);
    if (!record) throw new NotFoundError(`service token ${id} not found`);
    return record;
  }

  async touch(id: string, nowMs: number): Promise<void> {
    this.db.prepare('UPDATE service_tokens SET last_used_at = ? WHERE id = ?').run(nowMs, id);
  }
}
