import { type ApiKeyRecord, type ApiKeyRepository, NotFoundError } from '../contract.js';
import type { SqliteDatabase } from './database.js';

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

export class SqliteApiKeys implements ApiKeyRepository {
  private readonly byHash;

  constructor(private readonly db: SqliteDatabase) {
    // On every authenticated request: prepared once.
    this.byHash = db.prepare('SELECT * FROM api_keys WHERE key_hash = ?');
  }

  async create(record: Omit<ApiKeyRecord, 'revokedAt' | 'lastUsedAt'>): Promise<ApiKeyRecord> {
    this.db
      .prepare(
        `INSERT INTO api_keys (id, tenant_id, name, role, key_hash, key_prefix, created_by, created_at)
         VALUES (@id, @tenantId, @name, @role, @keyHash, @keyPrefix, @createdBy, @createdAt)`,
      )
      .run(record);
    return (await this.get(record.tenantId, record.id))!;
  }

  async findByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.byHash.get(keyHash) as ApiKeyRow | undefined;
    return row && toRecord(row);
  }

  async get(tenantId: string, id: string): Promise<ApiKeyRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM api_keys WHERE id = ? AND tenant_id = ?').get(id, tenantId) as
      | ApiKeyRow
      | undefined;
    return row && toRecord(row);
  }

  async list(tenantId: string): Promise<ApiKeyRecord[]> {
    return (
      this.db.prepare('SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY id').all(tenantId) as ApiKeyRow[]
    ).map(toRecord);
  }

  async revoke(tenantId: string, id: string, nowMs: number): Promise<ApiKeyRecord> {
    this.db
      .prepare('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND tenant_id = ?')
      .run(nowMs, id, tenantId);
    const record = await this.get(tenantId, id);
    if (!record) throw new NotFoundError(`API key ${id} not found`);
    return record;
  }

  async touch(id: string, nowMs: number): Promise<void> {
    this.db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(nowMs, id);
  }
}
