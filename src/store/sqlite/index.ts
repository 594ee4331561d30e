import type { Tenant } from '../../domain/resources.js';
import type { Store, TenantRepository } from '../contract.js';
import { SqliteApiKeys } from './api-keys.js';
import { SqliteAuditLog } from './audit-log.js';
import { checkpointInBackground } from './background-checkpoints.js';
import { SqliteCallRecords } from './call-records.js';
import { SqliteCampaigns } from './campaigns.js';
import { openSqlite, type SqliteDatabase } from './database.js';
import { SqliteDispatch } from './dispatch.js';
import { SqliteErasure } from './erasure.js';
import { SqliteResources } from './resources.js';
import { SqliteSealedValues } from './sealed-values.js';
import { SqliteServiceTokens } from './service-tokens.js';
import { SqliteTaskExport } from './task-export.js';
import { SqliteTasks } from './tasks.js';
import { SqliteTenantProfiles } from './tenant-profiles.js';
import { SqliteSessions, SqliteUsers } from './users.js';

class SqliteTenants implements TenantRepository {
  constructor(private readonly db: SqliteDatabase) {}

  async ensure(tenant: { id: string; name: string }, nowMs: number): Promise<Tenant> {
    this.db
      .prepare('INSERT OR IGNORE INTO tenants (id, name, created_at) VALUES (?, ?, ?)')
      .run(tenant.id, tenant.name, nowMs);
    return (await this.get(tenant.id))!;
  }

  async get(id: string): Promise<Tenant | undefined> {
    const row = this.db.prepare('SELECT id, name, created_at FROM tenants WHERE id = ?').get(id) as
      | { id: string; name: string; created_at: number }
      | undefined;
    return row && { id: row.id, name: row.name, createdAt: row.created_at };
  }
}

export interface SqliteStoreOptions {
  /** WAL checkpoints on a thread of their own, off the event loop (the running platform's store). */
  backgroundCheckpoints?: boolean;
}

/** The embedded store: one SQLite file (created and migrated on open). */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  const db = openSqlite(path);
  const stopCheckpoints =
    options.backgroundCheckpoints && path !== ':memory:' ? checkpointInBackground(db, path) : async () => {};
  return {
    tenants: new SqliteTenants(db),
    resources: new SqliteResources(db),
    campaigns: new SqliteCampaigns(db),
    tasks: new SqliteTasks(db),
    dispatch: new SqliteDispatch(db),
    tenantProfiles: new SqliteTenantProfiles(db),
    apiKeys: new SqliteApiKeys(db),
    audit: new SqliteAuditLog(db),
    erasure: new SqliteErasure(db),
    sealedValues: new SqliteSealedValues(db),
    users: new SqliteUsers(db),
    sessions: new SqliteSessions(db),
    serviceTokens: new SqliteServiceTokens(db),
    taskExport: new SqliteTaskExport(db),
    callRecords: new SqliteCallRecords(db),
    async close() {
      await stopCheckpoints();
      db.close();
    },
  };
}
