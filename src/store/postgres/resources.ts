import type { Gateway, Line } from '../../domain/resources.js';
import {
  ConflictError,
  type GatewayInput,
  type LineInput,
  NotFoundError,
  type ResourceRepository,
  type SwitchInput,
  type SwitchRecord,
} from '../contract.js';
import type { PgDatabase, Queryable } from './database.js';
import {
  type GatewayRow,
  guardedWrite,
  type LineRow,
  type SwitchRow,
  toGateway,
  toLine,
  toSwitch,
} from './rows.js';

function versionCheck(what: string, changes: number | null, expectedVersion: number | undefined): void {
  if (changes === 1) return;
  if (expectedVersion !== undefined)
    throw new ConflictError(`${what} changed since version ${expectedVersion}`, 'version_conflict');
  throw new NotFoundError(`${what} not found`);
}

function lineValues(input: LineInput): unknown[] {
  return [
    input.name,
    input.gatewayId,
    input.dialTemplate,
    input.numberFormat,
    JSON.stringify(input.callerIds),
    input.caps,
    input.maxConcurrent,
    input.weight ?? 1,
    input.callerIdCaps ?? null,
    input.callerIdMaxConcurrent ?? null,
    input.tenantId,
    input.enabled ? 1 : 0,
  ];
}

/** Switches, gateways and lines: platform-scoped resources (no tenant), small tables. */
export class PgResources implements ResourceRepository {
  constructor(private readonly db: PgDatabase) {}

  async createSwitch(input: SwitchInput, nowMs: number): Promise<SwitchRecord> {
    await guardedWrite('switch', () =>
      this.db.query(
        `INSERT INTO switches (id, name, esl_host, esl_port, esl_password_sealed, max_sessions, max_caps, enabled,
           created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1)`,
        [
          input.id,
          input.name,
          input.eslHost,
          input.eslPort,
          input.eslPasswordSealed,
          input.maxSessions,
          input.maxCaps,
          input.enabled ? 1 : 0,
          nowMs,
        ],
      ),
    );
    return (await this.getSwitch(input.id))!;
  }

  async updateSwitch(
    id: string,
    input: SwitchInput,
    expectedVersion: number | undefined,
    nowMs: number,
  ): Promise<SwitchRecord> {
    const result = await guardedWrite('switch', () =>
      this.db.query(
        `UPDATE switches SET name = $2, esl_host = $3, esl_port = $4, esl_password_sealed = $5, max_sessions = $6,
           max_caps = $7, enabled = $8, updated_at = $9, version = version + 1
         WHERE id = $1 AND ($10::bigint IS NULL OR version = $10)`,
        [
          id,
          input.name,
          input.eslHost,
          input.eslPort,
          input.eslPasswordSealed,
          input.maxSessions,
          input.maxCaps,
          input.enabled ? 1 : 0,
          nowMs,
          expectedVersion ?? null,
        ],
      ),
    );
    versionCheck(`switch ${id}`, result.rowCount, expectedVersion);
    return (await this.getSwitch(id))!;
  }

  async getSwitch(id: string): Promise<SwitchRecord | undefined> {
    const { rows } = await this.db.query<SwitchRow>('SELECT * FROM switches WHERE id = $1', [id]);
    return rows[0] && toSwitch(rows[0]);
  }

  async listSwitches(): Promise<SwitchRecord[]> {
    return (await this.db.query<SwitchRow>('SELECT * FROM switches ORDER BY name')).rows.map(toSwitch);
  }

  async deleteSwitch(id: string): Promise<void> {
    const result = await guardedWrite('switch', () =>
      this.db.query('DELETE FROM switches WHERE id = $1', [id]),
    );
    if (result.rowCount === 0) throw new NotFoundError(`switch ${id} not found`);
  }

  async createGateway(input: GatewayInput, nowMs: number): Promise<Gateway> {
    await guardedWrite('gateway', () =>
      this.db.transaction(async (client) => {
        await client.query(
          `INSERT INTO gateways (id, name, max_caps, max_concurrent, enabled, created_at, updated_at, version)
           VALUES ($1, $2, $3, $4, $5, $6, $6, 1)`,
          [input.id, input.name, input.maxCaps, input.maxConcurrent, input.enabled ? 1 : 0, nowMs],
        );
        await writeGatewaySwitches(client, input.id, input.switchIds);
      }),
    );
    return (await this.getGateway(input.id))!;
  }

  async updateGateway(
    id: string,
    input: GatewayInput,
    expectedVersion: number | undefined,
    nowMs: number,
  ): Promise<Gateway> {
    await guardedWrite('gateway', () =>
      this.db.transaction(async (client) => {
        const result = await client.query(
          `UPDATE gateways SET name = $2, max_caps = $3, max_concurrent = $4, enabled = $5, updated_at = $6,
             version = version + 1
           WHERE id = $1 AND ($7::bigint IS NULL OR version = $7)`,
          [
            id,
            input.name,
            input.maxCaps,
            input.maxConcurrent,
            input.enabled ? 1 : 0,
            nowMs,
            expectedVersion ?? null,
          ],
        );
        versionCheck(`gateway ${id}`, result.rowCount, expectedVersion);
        await client.query('DELETE FROM gateway_switches WHERE gateway_id = $1', [id]);
        await writeGatewaySwitches(client, id, input.switchIds);
      }),
    );
    return (await this.getGateway(id))!;
  }

  async getGateway(id: string): Promise<Gateway | undefined> {
    const { rows } = await this.db.query<GatewayRow>('SELECT * FROM gateways WHERE id = $1', [id]);
    if (!rows[0]) return undefined;
    return toGateway(rows[0], (await this.switchIdsOf([id])).get(id) ?? []);
  }

  async listGateways(): Promise<Gateway[]> {
    const { rows } = await this.db.query<GatewayRow>('SELECT * FROM gateways ORDER BY name');
    const switchIds = await this.switchIdsOf(rows.map((row) => row.id));
    return rows.map((row) => toGateway(row, switchIds.get(row.id) ?? []));
  }

  /** The switches of many gateways in one query. */
  private async switchIdsOf(gatewayIds: string[]): Promise<Map<string, string[]>> {
    const byGateway = new Map<string, string[]>();
    if (gatewayIds.length === 0) return byGateway;
    const { rows } = await this.db.query<{ gateway_id: string; switch_id: string }>(
      'SELECT gateway_id, switch_id FROM gateway_switches WHERE gateway_id = ANY($1::text[]) ORDER BY switch_id',
      [gatewayIds],
    );
    for (const row of rows) {
      const list = byGateway.get(row.gateway_id);
      if (list) list.push(row.switch_id);
      else byGateway.set(row.gateway_id, [row.switch_id]);
    }
    return byGateway;
  }

  async deleteGateway(id: string): Promise<void> {
    const result = await guardedWrite('gateway', () =>
      this.db.query('DELETE FROM gateways WHERE id = $1', [id]),
    );
    if (result.rowCount === 0) throw new NotFoundError(`gateway ${id} not found`);
  }

  async createLine(input: LineInput, nowMs: number): Promise<Line> {
    await guardedWrite('line', () =>
      this.db.query(
        `INSERT INTO lines (id, name, gateway_id, dial_template, number_format, caller_ids, caps, max_concurrent, weight,
           caller_id_caps, caller_id_max_concurrent, tenant_id, enabled, created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, 1)`,
        [input.id, ...lineValues(input), nowMs],
      ),
    );
    return (await this.getLine(input.id))!;
  }

  async updateLine(
    id: string,
    input: LineInput,
    expectedVersion: number | undefined,
    nowMs: number,
  ): Promise<Line> {
    const result = await guardedWrite('line', () =>
      this.db.query(
        `UPDATE lines SET name = $2, gateway_id = $3, dial_template = $4, number_format = $5, caller_ids = $6,
           caps = $7, max_concurrent = $8, weight = $9, caller_id_caps = $10, caller_id_max_concurrent = $11,
           tenant_id = $12, enabled = $13, updated_at = $14, version = version + 1
         WHERE id = $1 AND ($15::bigint IS NULL OR version = $15)`,
        [id, ...lineValues(input), nowMs, expectedVersion ?? null],
      ),
    );
    versionCheck(`line ${id}`, result.rowCount, expectedVersion);
    return (await this.getLine(id))!;
  }

  async setLineHealthOverride(id: string, override: 'in' | 'out' | null, nowMs: number): Promise<Line> {
    const { rows } = await this.db.query<LineRow>(
      `UPDATE lines SET health_override = $2, updated_at = $3, version = version + 1 WHERE id = $1 RETURNING *`,
      [id, override, nowMs],
    );
    if (!rows[0]) throw new NotFoundError(`line ${id} not found`);
    return toLine(rows[0]);
  }

  async getLine(id: string): Promise<Line | undefined> {
    const { rows } = await this.db.query<LineRow>('SELECT * FROM lines WHERE id = $1', [id]);
    return rows[0] && toLine(rows[0]);
  }

  async listLines(): Promise<Line[]> {
    return (await this.db.query<LineRow>('SELECT * FROM lines ORDER BY name')).rows.map(toLine);
  }

  async deleteLine(id: string): Promise<void> {
    const result = await guardedWrite('line', () => this.db.query('DELETE FROM lines WHERE id = $1', [id]));
    if (result.rowCount === 0) throw new NotFoundError(`line ${id} not found`);
  }
}

async function writeGatewaySwitches(
  client: Queryable,
  gatewayId: string,
  switchIds: string[],
): Promise<void> {
  if (switchIds.length === 0) return;
  await client.query(
    `INSERT INTO gateway_switches (gateway_id, switch_id)
     SELECT $1, switch_id FROM unnest($2::text[]) AS s(switch_id)`,
    [gatewayId, [...new Set(switchIds)]],
  );
}
