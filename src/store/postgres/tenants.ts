import type { Tenant } from '../../domain/resources.js';
import type { TenantRepository } from '../contract.js';
import type { PgDatabase } from './database.js';

export class PgTenants implements TenantRepository {
  constructor(private readonly db: PgDatabase) {}

  async ensure(tenant: { id: string; name: string }, nowMs: number): Promise<Tenant> {
    await this.db.query(
      'INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING',
      [tenant.id, tenant.name, nowMs],
    );
    return (await this.get(tenant.id))!;
  }

  async get(id: string): Promise<Tenant | undefined> {
    const { rows } = await this.db.query<{ id: string; name: string; created_at: number }>(
      'SELECT id, name, created_at FROM tenants WHERE id = $1',
      [id],
    );
    const row = rows[0];
    return row && { id: row.id, name: row.name, createdAt: row.created_at };
  }
}
