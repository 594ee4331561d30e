import {
  ConflictError,
  NotFoundError,
  type TenantProfile,
  type TenantProfileInput,
  type TenantProfileRepository,
} from '../contract.js';
import { isUniqueViolation, type PgDatabase } from './database.js';

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
    // Tenants made by `tenants.ensure` have never been updated.
    updatedAt: row.updated_at || row.created_at,
    version: row.version,
  };
}

/** The profile's columns after `name`, in the order of the INSERT and UPDATE below. */
function columnValues(input: Omit<TenantProfileInput, 'id'>): unknown[] {
  return [
    input.name,
    input.weight ?? 1,
    input.limits.maxCaps,
    input.limits.maxConcurrent,
    input.limits.maxDailyAttempts,
    JSON.stringify(input.destinations.allowPrefixes),
    JSON.stringify(input.destinations.denyPrefixes),
    input.destinations.allowPremiumRate ? 1 : 0,
  ];
}

const SELECT_TENANT = `SELECT id, name, created_at, weight, max_caps, max_concurrent, max_daily_attempts,
  allow_prefixes, deny_prefixes, allow_premium_rate, updated_at, version FROM tenants`;

export class PgTenantProfiles implements TenantProfileRepository {
  constructor(private readonly db: PgDatabase) {}

  async create(input: TenantProfileInput, nowMs: number): Promise<TenantProfile> {
    try {
      await this.db.query(
        `INSERT INTO tenants (id, name, weight, max_caps, max_concurrent, max_daily_attempts,
           allow_prefixes, deny_prefixes, allow_premium_rate, created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 1)`,
        [input.id, ...columnValues(input), nowMs],
      );
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError(`tenant ${input.id} exists`, 'tenant_exists', { cause: error });
      throw error;
    }
    return (await this.get(input.id))!;
  }

  async get(id: string): Promise<TenantProfile | undefined> {
    const { rows } = await this.db.query<TenantRow>(`${SELECT_TENANT} WHERE id = $1`, [id]);
    return rows[0] && toProfile(rows[0]);
  }

  async list(): Promise<TenantProfile[]> {
    const { rows } = await this.db.query<TenantRow>(`${SELECT_TENANT} ORDER BY id`);
    return rows.map(toProfile);
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
    // Only over the version read: a concurrent update in between is a conflict, not a lost write.
    const result = await this.db.query(
      `UPDATE tenants SET name = $1, weight = $2, max_caps = $3, max_concurrent = $4,
         max_daily_attempts = $5, allow_prefixes = $6, deny_prefixes = $7, allow_premium_rate = $8,
         updated_at = $9, version = version + 1
       WHERE id = $10 AND version = $11`,
      [...columnValues(next), nowMs, id, current.version],
    );
    if (result.rowCount !== 1) throw new ConflictError('tenant changed concurrently', 'version_conflict');
    return (await this.get(id))!;
  }
}
