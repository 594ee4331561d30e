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
import { isForeignKeyViolation, isUniqueViolation, type SqliteDatabase } from './database.js';
import { type GatewayRow, type LineRow, type SwitchRow, toGateway, toLine, toSwitch } from './rows.js';

function lineSchedulingFields(input: LineInput) {
  return {
    weight: input.weight ?? 1,
    callerIdCaps: input.callerIdCaps ?? null,
    callerIdMaxConcurrent: input.callerIdMaxConcurrent ?? null,
  };
}

/** Translates constraint failures into the contract's typed errors. */
function guarded<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (isUniqueViolation(error))
      throw new ConflictError(`${what}: the name is already taken`, 'name_taken', { cause: error });
    if (isForeignKeyViolation(error)) {
      throw new ConflictError(`${what}: it refers to, or is used by, another resource`, 'resource_in_use', {
        cause: error,
      });
    }
    throw error;
  }
}

function versionCheck(what: string, changes: number, expectedVersion: number | undefined): void {
  if (changes === 1) return;
  if (expectedVersion !== undefined)
    throw new ConflictError(`${what} changed since version ${expectedVersion}`, 'version_conflict');
  throw new NotFoundError(`${what} not found`);
}

export class SqliteResources implements ResourceRepository {
  constructor(private readonly db: SqliteDatabase) {}

  async createSwitch(input: SwitchInput, nowMs: number): Promise<SwitchRecord> {
    guarded('switch', () =>
      this.db
        .prepare(
          `INSERT INTO switches (id, name, esl_host, esl_port, esl_password_sealed, max_sessions, max_caps, enabled, created_at, updated_at, version)
           VALUES (@id, @name, @eslHost, @eslPort, @eslPasswordSealed, @maxSessions, @maxCaps, @enabled, @now, @now, 1)`,
        )
        .run({ ...input, enabled: input.enabled ? 1 : 0, now: nowMs }),
    );
    return (await this.getSwitch(input.id))!;
  }

  async updateSwitch(
    id: string,
    input: SwitchInput,
    expectedVersion: number | undefined,
    nowMs: number,
  ): Promise<SwitchRecord> {
    const result = guarded('switch', () =>
      this.db
        .prepare(
          `UPDATE switches SET name=@name, esl_host=@eslHost, esl_port=@eslPort, esl_password_sealed=@eslPasswordSealed,
             max_sessions=@maxSessions, max_caps=@maxCaps, enabled=@enabled, updated_at=@now, version=version+1
           WHERE id=@id AND (@expected IS NULL OR version=@expected)`,
        )
        .run({ ...input, id, enabled: input.enabled ? 1 : 0, now: nowMs, expected: expectedVersion ?? null }),
    );
    versionCheck(`switch ${id}`, result.changes, expectedVersion);
    return (await this.getSwitch(id))!;
  }

  async getSwitch(id: string): Promise<SwitchRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM switches WHERE id = ?').get(id) as SwitchRow | undefined;
    return row && toSwitch(row);
  }

  async listSwitches(): Promise<SwitchRecord[]> {
    return (this.db.prepare('SELECT * FROM switches ORDER BY name').all() as SwitchRow[]).map(toSwitch);
  }

  async deleteSwitch(id: string): Promise<void> {
    const result = guarded('switch', () => this.db.prepare('DELETE FROM switches WHERE id = ?').run(id));
    if (result.changes === 0) throw new NotFoundError(`switch ${id} not found`);
  }

  async createGateway(input: GatewayInput, nowMs: number): Promise<Gateway> {
    this.db.transaction(() => {
      guarded('gateway', () =>
        this.db
          .prepare(
            `INSERT INTO gateways (id, name, max_caps, max_concurrent, enabled, created_at, updated_at, version)
             VALUES (@id, @name, @maxCaps, @maxConcurrent, @enabled, @now, @now, 1)`,
          )
          .run({ ...input, enabled: input.enabled ? 1 : 0, now: nowMs, switchIds: undefined }),
      );
      this.writeGatewaySwitches(input.id, input.switchIds);
    })();
    return (await this.getGateway(input.id))!;
  }

  async updateGateway(
    id: string,
    input: GatewayInput,
    expectedVersion: number | undefined,
    nowMs: number,
  ): Promise<Gateway> {
    this.db.transaction(() => {
      const result = guarded('gateway', () =>
        this.db
          .prepare(
            `UPDATE gateways SET name=@name, max_caps=@maxCaps, max_concurrent=@maxConcurrent, enabled=@enabled,
               updated_at=@now, version=version+1
             WHERE id=@id AND (@expected IS NULL OR version=@expected)`,
          )
          .run({
            id,
            name: input.name,
            maxCaps: input.maxCaps,
            maxConcurrent: input.maxConcurrent,
            enabled: input.enabled ? 1 : 0,
            now: nowMs,
            expected: expectedVersion ?? null,
          }),
      );
      versionCheck(`gateway ${id}`, result.changes, expectedVersion);
      this.db.prepare('DELETE FROM gateway_switches WHERE gateway_id = ?').run(id);
      this.writeGatewaySwitches(id, input.switchIds);
    })();
    return (await this.getGateway(id))!;
  }

  private writeGatewaySwitches(gatewayId: string, switchIds: string[]): void {
    const insert = this.db.prepare('INSERT INTO gateway_switches (gateway_id, switch_id) VALUES (?, ?)');
    for (const switchId of new Set(switchIds)) guarded('gateway', () => insert.run(gatewayId, switchId));
  }

  private switchIdsOf(gatewayId: string): string[] {
    return (
      this.db
        .prepare('SELECT switch_id FROM gateway_switches WHERE gateway_id = ? ORDER BY switch_id')
        .all(gatewayId) as {
        switch_id: string;
      }[]
    ).map((r) => r.switch_id);
  }

  async getGateway(id: string): Promise<Gateway | undefined> {
    const row = this.db.prepare('SELECT * FROM gateways WHERE id = ?').get(id) as GatewayRow | undefined;
    return row && toGateway(row, this.switchIdsOf(id));
  }

  async listGateways(): Promise<Gateway[]> {
    const rows = this.db.prepare('SELECT * FROM gateways ORDER BY name').all() as GatewayRow[];
    return rows.map((row) => toGateway(row, this.switchIdsOf(row.id)));
  }

  async deleteGateway(id: string): Promise<void> {
    const result = guarded('gateway', () => this.db.prepare('DELETE FROM gateways WHERE id = ?').run(id));
    if (result.changes === 0) throw new NotFoundError(`gateway ${id} not found`);
  }

  async createLine(input: LineInput, nowMs: number): Promise<Line> {
    guarded('line', () =>
      this.db
        .prepare(
          `INSERT INTO lines (id, name, gateway_id, dial_template, number_format, caller_ids, caps, max_concurrent, weight,
             caller_id_caps, caller_id_max_concurrent, tenant_id, enabled, created_at, updated_at, version)
           VALUES (@id, @name, @gatewayId, @dialTemplate, @numberFormat, @callerIds, @caps, @maxConcurrent, @weight,
             @callerIdCaps, @callerIdMaxConcurrent, @tenantId, @enabled, @now, @now, 1)`,
        )
        .run({
          ...input,
          ...lineSchedulingFields(input),
          callerIds: JSON.stringify(input.callerIds),
          enabled: input.enabled ? 1 : 0,
          now: nowMs,
        }),
    );
    return (await this.getLine(input.id))!;
  }

  async updateLine(
    id: string,
    input: LineInput,
    expectedVersion: number | undefined,
    nowMs: number,
  ): Promise<Line> {
    const result = guarded('line', () =>
      this.db
        .prepare(
          `UPDATE lines SET name=@name, gateway_id=@gatewayId, dial_template=@dialTemplate, number_format=@numberFormat,
             caller_ids=@callerIds, caps=@caps, max_concurrent=@maxConcurrent, weight=@weight,
             caller_id_caps=@callerIdCaps, caller_id_max_concurrent=@callerIdMaxConcurrent, tenant_id=@tenantId,
             enabled=@enabled, updated_at=@now, version=version+1
           WHERE id=@id AND (@expected IS NULL OR version=@expected)`,
        )
        .run({
          ...input,
          ...lineSchedulingFields(input),
          id,
          callerIds: JSON.stringify(input.callerIds),
          enabled: input.enabled ? 1 : 0,
          now: nowMs,
          expected: expectedVersion ?? null,
        }),
    );
    versionCheck(`line ${id}`, result.changes, expectedVersion);
    return (await this.getLine(id))!;
  }

  async setLineHealthOverride(id: string, override: 'in' | 'out' | null, nowMs: number): Promise<Line> {
    const result = this.db
      .prepare('UPDATE lines SET health_override = ?, updated_at = ?, version = version + 1 WHERE id = ?')
      .run(override, nowMs, id);
    if (result.changes === 0) throw new NotFoundError(`line ${id} not found`);
    return (await this.getLine(id))!;
  }

  async getLine(id: string): Promise<Line | undefined> {
    const row = this.db.prepare('SELECT * FROM lines WHERE id = ?').get(id) as LineRow | undefined;
    return row && toLine(row);
  }

  async listLines(): Promise<Line[]> {
    return (this.db.prepare('SELECT * FROM lines ORDER BY name').all() as LineRow[]).map(toLine);
  }

  async deleteLine(id: string): Promise<void> {
    const result = guarded('line', () => this.db.prepare('DELETE FROM lines WHERE id = ?').run(id));
    if (result.changes === 0) throw new NotFoundError(`line ${id} not found`);
  }
}
