import {
  ConflictError,
  NotFoundError,
  type TenantProfile,
  type TenantProfileInput,
  type TenantProfileRepository,
} from '../contract.js';
import { isUniqueViolation, type SqliteDatabase } from './database.js';

interface TenantRow {
  id: string;
  name: string;
  created_at: number;
  weight: number;
  max_caps: number | null;
  max_concurrent: number | null;
  max_daily_attempts: number | null;
  allow_prefixes: string;
  deny_prefixes: string;
  allow_premium_rate: number;
  updated_at: number;
  version: number;
}

function toProfile(row: TenantRow): TenantProfile {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    weight: row.weight,
    limits: {
      maxCaps: row.max_caps,
      maxConcurrent: row.max_concurrent,
      maxDailyAttempts: row.max_daily_attempts,
    },
    destinations: {
      allowPrefixes: JSON.parse(row.allow_prefixes) as string[],
      denyPrefixes: JSON.parse(row.deny_prefixes) as string[],
      allowPremiumRate: row.allow_premium_rate === 1,
    },
    // Tenants made before 002 (or by `tenants.ensure`) have never been updated.
    updatedAt: row.updated_at || row.created_at,
    version: row.version,
  };
}

function columns(input: Omit<TenantProfileInput, 'id'>) {
  return {
    name: input.name,
    weight: input.weight ?? 1,
    maxCaps: input.limits.maxCaps,
    maxConcurrent: input.limits.maxConcurrent,
    maxDailyAttempts: input.limits.maxDailyAttempts,
    allowPrefixes: JSON.stringify(input.destinations.allowPrefixes),
    denyPrefixes: JSON.stringify(input.destinations.denyPrefixes),
    allowPremiumRate: input.destinations.allowPremiumRate ? 1 : 0,
  };
}

export class SqliteTenantProfiles implements TenantProfileRepository {
  constructor(private readonly db: SqliteDatabase) {}

  async create(input: TenantProfileInput, nowMs: number): Promise<TenantProfile> {
    try {
      this.db
        .prepare(
          `INSERT INTO tenants (id, name, created_at, weight, max_caps, max_concurrent, max_daily_attempts,
             allow_prefixes, deny_prefixes, allow_premium_rate, updated_at, version)
           VALUES (@id, @name, @now, @weight, @maxCaps, @maxConcurrent, @maxDailyAttempts,
             @allowPrefixes, @denyPrefixes, @allowPremiumRate, @now, 1)`,
        )
        .run({ id: input.id, ...columns(input), now: nowMs });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError(`tenant ${input.id} exists`, 'tenant_exists', { cause: error });
      throw error;
    }
    return (await this.get(input.id))!;
  }

  async get(id: string): Promise<TenantProfile | undefined> {
    const row = this.db.prepare('SELECT * FROM tenants WHERE id = ?').get(id) as TenantRow | undefined;
    return row && toProfile(row);
  }

  async list(): Promise<TenantProfile[]> {
    return (this.db.prepare('SELECT * FROM tenants ORDER BY id').all() as TenantRow[]).map(toProfile);
  }

  async update(
    id: string,
    patch: Partial<Omit<TenantProfileInput, 'id'>>,
    expectedVersion: number | undefined,
    nowMs: number,
  ): Promise<TenantProfile> {
    const current = await this.get(id);
    if (!current) throw new NotFoundError(`tenant ${id} not found`);
    if (expectedVersion !== undefined && expectedVersion !== current.version) {
      throw new ConflictError(`tenant changed since version ${expectedVersion}`, 'version_conflict');
    }
    const next = {
      name: patch.name ?? current.name,
      weight: patch.weight ?? current.weight,
      limits: { ...current.limits, ...patch.limits },
      destinations: { ...current.destinations, ...patch.destinations },
    };
    const result = this.db
      .prepare(
        `UPDATE tenants SET name=@name, weight=@weight, max_caps=@maxCaps, max_concurrent=@maxConcurrent,
           max_daily_attempts=@maxDailyAttempts, allow_prefixes=@allowPrefixes, deny_prefixes=@denyPrefixes,
           allow_premium_rate=@allowPremiumRate, updated_at=@now, version=version+1
         WHERE id=@id AND version=@version`,
      )
      .run({ id, ...columns(next), now: nowMs, version: current.version });
    if (result.changes !== 1) throw new ConflictError('tenant changed concurrently', 'version_conflict');
    return (await this.get(id))!;
  }
}
