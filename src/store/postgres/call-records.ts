import type { CallRecord } from '../../domain/call-record.js';
import type { CallRecordRepository, StoredCallRecord } from '../call-record-contract.js';
import {
  CALL_RECORD_COLUMNS,
  type CallRecordRow,
  callRecordRow,
  toStoredCallRecord,
} from '../sqlite/call-records.js';
import type { PgDatabase } from './database.js';

/** Records per INSERT: 14 parameters each stays far below PostgreSQL's 65,535 per statement. */
const INSERT_CHUNK = 1_000;

export class PgCallRecords implements CallRecordRepository {
  constructor(private readonly db: PgDatabase) {}

  /**
   * One transaction; ON CONFLICT DO NOTHING keeps the first record of a call, and RETURNING names
   * the uuids stored now (a uuid twice in one batch: only its first occurrence counts as stored).
   */
  async put(records: readonly CallRecord[], receivedAtMs: number): Promise<boolean[]> {
    if (records.length === 0) return [];
    const stored = new Set<string>();
    await this.db.transaction(async (client) => {
      for (let start = 0; start < records.length; start += INSERT_CHUNK) {
        const rows = records.slice(start, start + INSERT_CHUNK).map((r) => callRecordRow(r, receivedAtMs));
        const values: unknown[] = [];
        const tuples = rows.map((row) => {
          const first = values.length;
          for (const column of CALL_RECORD_COLUMNS) values.push(row[column]);
          return `(${CALL_RECORD_COLUMNS.map((_, i) => `$${first + i + 1}`).join(', ')})`;
        });
        const { rows: inserted } = await client.query<{ call_uuid: string }>(
          `INSERT INTO call_records (${CALL_RECORD_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}
           ON CONFLICT (call_uuid) DO NOTHING RETURNING call_uuid`,
          values,
        );
        for (const row of inserted) stored.add(row.call_uuid);
      }
    });
    // Only the first occurrence of a stored uuid was the one inserted.
    return records.map((r) => stored.delete(r.callUuid));
  }

  async get(callUuid: string): Promise<StoredCallRecord | undefined> {
    const { rows } = await this.db.query<CallRecordRow>('SELECT * FROM call_records WHERE call_uuid = $1', [
      callUuid,
    ]);
    return rows[0] && toStoredCallRecord(rows[0]);
  }

  async getMany(callUuids: readonly string[]): Promise<Map<string, StoredCallRecord>> {
    const found = new Map<string, StoredCallRecord>();
    if (callUuids.length === 0) return found;
    const { rows } = await this.db.query<CallRecordRow>(
      'SELECT * FROM call_records WHERE call_uuid = ANY($1::text[])',
      [[...new Set(callUuids)]],
    );
    for (const row of rows) found.set(row.call_uuid, toStoredCallRecord(row));
    return found;
  }
}
