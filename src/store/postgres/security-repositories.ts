import type { Store } from '../contract.js';
import { PgApiKeys } from './api-keys.js';
import { PgAuditLog } from './audit-log.js';
import type { PgDatabase } from './database.js';
import { PgErasure } from './erasure.js';
import { PgSealedValues } from './sealed-values.js';
import { PgServiceTokens } from './service-tokens.js';
import { PgTaskExport } from './task-export.js';
import { PgTenantProfiles } from './tenant-profiles.js';
import { PgSessions, PgUsers } from './users.js';

export type SecurityRepositories = Pick<
  Store,
  | 'tenantProfiles'
  | 'apiKeys'
  | 'audit'
  | 'erasure'
  | 'sealedValues'
  | 'users'
  | 'sessions'
  | 'serviceTokens'
  | 'taskExport'
>;

/** The security repositories on PostgreSQL (tables of migration 002_security.sql). */
export function pgSecurityRepositories(db: PgDatabase): SecurityRepositories {
  return {
    tenantProfiles: new PgTenantProfiles(db),
    apiKeys: new PgApiKeys(db),
    audit: new PgAuditLog(db),
    erasure: new PgErasure(db),
    sealedValues: new PgSealedValues(db),
    users: new PgUsers(db),
    sessions: new PgSessions(db),
    serviceTokens: new PgServiceTokens(db),
    taskExport: new PgTaskExport(db),
  };
}
