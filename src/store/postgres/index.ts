import type { Store } from '../contract.js';
import { PgCallRecords } from './call-records.js';
import { PgCampaigns } from './campaigns.js';
import { openPostgres, type PgOptions } from './database.js';
import { PgDispatch } from './dispatch.js';
import { PgResources } from './resources.js';
import { pgSecurityRepositories } from './security-repositories.js';
import { PgTasks } from './tasks.js';
import { PgTenants } from './tenants.js';

export type { PgOptions } from './database.js';

/**
 * The cluster store: PostgreSQL, one schema per deployment (created and migrated on open, safe
 * when several processes open it at once). Behaves as the SQLite store does, errors and ordering
 * included; the conformance suite in test/store/conformance runs on both.
 */
export async function openPostgresStore(options: PgOptions): Promise<Store> {
  const db = await openPostgres(options);
  try {
    return {
      tenants: new PgTenants(db),
      resources: new PgResources(db),
      campaigns: new PgCampaigns(db),
      tasks: new PgTasks(db),
      dispatch: new PgDispatch(db),
      ...pgSecurityRepositories(db),
      callRecords: new PgCallRecords(db),
      close: () => db.close(),
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}
