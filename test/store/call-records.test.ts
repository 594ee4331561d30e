import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../src/domain/call-record.js';
import { uuidv7 } from '../../src/domain/ids.js';
import type { CallRecordRepository } from '../../src/store/call-record-contract.js';
import { PgCallRecords } from '../../src/store/postgres/call-records.js';
import { openPostgres } from '../../src/store/postgres/database.js';
import { SqliteCallRecords } from '../../src/store/sqlite/call-records.js';
import { openSqlite } from '../../src/store/sqlite/database.js';
import { dropSchema, freshSchemaName, postgresAvailable, TEST_DATABASE_URL } from '../support/postgres.js';
import { makeTempDir } from '../support/temp-dir.js';

/** One conformance suite, run on SQLite and on PostgreSQL (STYLE habit 6). */
interface Backend {
  name: string;
  open(): Promise<{ records: CallRecordRepository; dispose(): Promise<void> }>;
}

const dir = makeTempDir('switchboard-cdr-');
afterAll(() => dir.remove());
let files = 0;

const sqlite: Backend = {
  name: 'sqlite',
  async open() {
    const db = openSqlite(join(dir.path, `cdr-${files++}.db`));
    return {
      records: new SqliteCallRecords(db),
      async dispose() {
        db.close();
      },
    };
  },
};

const postgres: Backend = {
  name: 'postgres',
  async open() {
    const schema = freshSchemaName('cdr');
    const db = await openPostgres({ url: TEST_DATABASE_URL, schema, max: 2 });
    return {
      records: new PgCallRecords(db),
      async dispose() {
        await db.close();
        await dropSchema(schema);
      },
    };
  },
};

const backends = (await postgresAvailable()) ? [sqlite, postgres] : [sqlite];
const T0 = 1_800_000_000_000;

function record(extra: Partial<CallRecord> = {}): CallRecord {
  const uuid = uuidv7(T0);
  return {
    callUuid: uuid,
    attemptId: uuid,
    workerTag: 'main',
    switchName: 'fs-1',
    coreUuid: '182f5938-5c46-4190-bbc6-c6dd4321157f',
    hangupCause: 'USER_BUSY',
    q850: 17,
    sipCode: 486,
    startedAtMs: T0,
    answeredAtMs: null,
    endedAtMs: T0 + 2_500,
    billsecMs: 0,
    durationMs: 2_500,
    ...extra,
  };
}

describe.each(backends)('call records on $name', (backend) => {
  let records: CallRecordRepository;
  let dispose: () => Promise<void>;
  beforeEach(async () => {
    ({ records, dispose } = await backend.open());
  });
  afterEach(() => dispose());

  it('stores a record and reads it back field for field', async () => {
    const busy = record();
    const answered = record({
      hangupCause: 'NORMAL_CLEARING',
      q850: 16,
      sipCode: null,
      answeredAtMs: T0 + 1_000,
      billsecMs: 4_020,
      durationMs: null,
      attemptId: null,
      workerTag: null,
      coreUuid: null,
      startedAtMs: null,
    });
    expect(await records.put([busy, answered], T0 + 5_000)).toEqual([true, true]);
    expect(await records.get(busy.callUuid)).toEqual({ ...busy, receivedAtMs: T0 + 5_000 });
    expect(await records.get(answered.callUuid)).toEqual({ ...answered, receivedAtMs: T0 + 5_000 });
    expect(await records.get(uuidv7(T0))).toBeUndefined();
  });

  it('is idempotent by call uuid: a re-post, even a different one, changes nothing', async () => {
    const first = record();
    expect(await records.put([first], T0 + 1)).toEqual([true]);
    const repost = { ...first, hangupCause: 'NORMAL_CLEARING', answeredAtMs: T0 + 10, billsecMs: 99 };
    expect(await records.put([repost, first], T0 + 2)).toEqual([false, false]);
    expect(await records.get(first.callUuid)).toEqual({ ...first, receivedAtMs: T0 + 1 });
  });

  it('within one batch only the first of a uuid is stored', async () => {
    const a = record();
    const b = record();
    expect(await records.put([a, { ...a, hangupCause: 'NO_ANSWER' }, b], T0)).toEqual([true, false, true]);
    expect((await records.get(a.callUuid))?.hangupCause).toBe('USER_BUSY');
    expect(await records.put([], T0)).toEqual([]);
  });

  it('looks many up at once (more than one lookup chunk), absent ones left out', async () => {
    const batch = Array.from({ length: 1_203 }, () => record());
    expect((await records.put(batch, T0)).every(Boolean)).toBe(true);
    const wanted = [...batch.map((r) => r.callUuid), uuidv7(T0), batch[0]!.callUuid];
    const found = await records.getMany(wanted);
    expect(found.size).toBe(1_203);
    expect(found.get(batch[700]!.callUuid)).toEqual({ ...batch[700], receivedAtMs: T0 });
    expect((await records.getMany([])).size).toBe(0);
  });
});
