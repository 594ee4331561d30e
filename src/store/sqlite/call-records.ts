import type { CallRecord } from '../../domain/call-record.js';
import type { CallRecordRepository, StoredCallRecord } from '../call-record-contract.js';
import type { SqliteDatabase } from './database.js';

/** A `call_records` row; PostgreSQL's table has the same columns (migrations 008 / pg 003). */
export interface CallRecordRow {
  call_uuid: string;
  attempt_id: string | null;
  worker_tag: string | null;
  switch_name: string;
  core_uuid: string | null;
  hangup_cause: string;
  q850: number | null;
  sip_code: number | null;
  started_at: number | null;
  answered_at: number | null;
  ended_at: number;
  billsec_ms: number;
  duration_ms: number | null;
  received_at: number;
}

export const CALL_RECORD_COLUMNS = [
  'call_uuid',
  'attempt_id',
  'worker_tag',
  'switch_name',
  'core_uuid',
  'hangup_cause',
  'q850',
  'sip_code',
  'started_at',
  'answered_at',
  'ended_at',
  'billsec_ms',
  'duration_ms',
  'received_at',
] as const satisfies ReadonlyArray<keyof CallRecordRow>;

export function callRecordRow(record: CallRecord, receivedAtMs: number): CallRecordRow {
  return {
    call_uuid: record.callUuid,
    attempt_id: record.attemptId,
    worker_tag: record.workerTag,
    switch_name: record.switchName,
    core_uuid: record.coreUuid,
    hangup_cause: record.hangupCause,
    q850: record.q850,
    sip_code: record.sipCode,
    started_at: record.startedAtMs,
    answered_at: record.answeredAtMs,
    ended_at: record.endedAtMs,
    billsec_ms: record.billsecMs,
    duration_ms: record.durationMs,
    received_at: receivedAtMs,
  };
}

export function toStoredCallRecord(row: CallRecordRow): StoredCallRecord {
  return {
    callUuid: row.call_uuid,
    attemptId: row.attempt_id,
    workerTag: row.worker_tag,
    switchName: row.switch_name,
    coreUuid: row.core_uuid,
    hangupCause: row.hangup_cause,
    q850: row.q850,
    sipCode: row.sip_code,
    startedAtMs: row.started_at,
    answeredAtMs: row.answered_at,
    endedAtMs: row.ended_at,
    billsecMs: row.billsec_ms,
    durationMs: row.duration_ms,
    receivedAtMs: row.received_at,
  };
}

/** Uuids per `IN (…)` lookup: well under SQLite's bound-parameter limit. */
const LOOKUP_CHUNK = 500;

export class SqliteCallRecords implements CallRecordRepository {
  private readonly insert;
  private readonly putAll;
  private readonly selectOne;

  constructor(private readonly db: SqliteDatabase) {
    this.insert = db.prepare(
      `INSERT INTO call_records (${CALL_RECORD_COLUMNS.join(', ')})
       VALUES (${CALL_RECORD_COLUMNS.map((c) => `@${c}`).join(', ')})
       ON CONFLICT (call_uuid) DO NOTHING`,
    );
    this.putAll = db.transaction((rows: CallRecordRow[]) =>
      rows.map((row) => this.insert.run(row).changes === 1),
    );
    this.selectOne = db.prepare('SELECT * FROM call_records WHERE call_uuid = ?');
  }

  async put(records: readonly CallRecord[], receivedAtMs: number): Promise<boolean[]> {
    if (records.length === 0) return [];
    return this.putAll.immediate(records.map((r) => callRecordRow(r, receivedAtMs)));
  }

  async get(callUuid: string): Promise<StoredCallRecord | undefined> {
    const row = this.selectOne.get(callUuid) as CallRecordRow | undefined;
    return row && toStoredCallRecord(row);
  }

  async getMany(callUuids: readonly string[]): Promise<Map<string, StoredCallRecord>> {
    const found = new Map<string, StoredCallRecord>();
    const unique = [...new Set(callUuids)];
    for (let i = 0; i < unique.length; i += LOOKUP_CHUNK) {
      const chunk = unique.slice(i, i + LOOKUP_CHUNK);
      const rows = this.db
        .prepare(`SELECT * FROM call_records WHERE call_uuid IN (${chunk.map(() => '?').join(', ')})`)
        .all(...chunk) as CallRecordRow[];
      for (const row of rows) found.set(row.call_uuid, toStoredCallRecord(row));
    }
    return found;
  }
}
