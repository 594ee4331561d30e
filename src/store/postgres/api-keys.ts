import { type ApiKeyRecord, type ApiKeyRepository, NotFoundError } from '../contract.js';
import type { PgDatabase } from './database.js';

interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  role: string;
  key_hash: string;
  key_prefix: string;
  created_by: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    role: row.role,
    keyHash: row.key_hash,
    keyPrefix: row.key_prefix,
    createdBy: row.created_by,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

export class PgApiKeys implements ApiKeyRepository {
  constructor(private readonly db: PgDatabase) {}

  async create(record: Omit<ApiKeyRecord, 'revokedAt' | 'lastUsedAt'>): Promise<ApiKeyRecord> {
    const { rows } = await this.db.query<ApiKeyRow>(
      `INSERT INTO api_keys (id, tenant_id, name, role, key_hash, key_prefix, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [
        record.id,
        record.tenantId,
        record.name,
        record.role,
        record.keyHash,
        record.keyPrefix,
        record.createdBy,
        record.createdAt,
      ],
    );
    return toRecord(rows[0]!);
  }

  async findByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.db.query<ApiKeyRow>('SELECT * FROM api_keys WHERE key_hash = $1', [keyHash]);
    return rows[0] && toRecord(rows[0]);
  }

  async get(tenantId: string, id: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.db.query<ApiKeyRow>(
      'SELECT * FROM api_keys WHERE id = $1 AND tenant_id = $2',
      [id, tenantId],
    );
    return rows[0] && toRecord(rows[0]);
  }

  async list(tenantId: string): Promise<ApiKeyRecord[]> {
    const { rows } = await this.db.query<ApiKeyRow>(
      'SELECT * FROM api_keys WHERE tenant_id = $1 ORDER BY id',
      [tenantId],
    );
    return rows.map(toRecord);
  }

  async revoke(tenantId: string, id: string, nowMs: number): Promise<ApiKeyRecord> {
    const { rows } = await this.db.query<ApiKeyRow>(
      `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND tenant_id = $3
       RETURNING *`,
      [nowMs, id, tenantId],
    );
    if (!rows[0]) throw new NotFoundError(`API key ${id} not found`);
    return toRecord(rows[0]);
  }

  async touch(id: string, nowMs: number): Promise<void> {
    await this.db.query('UPDATE api_keys SET last_used_at = $1 WHERE id = $2', [nowMs, id]);
  }
}
