import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/domain/ids.js';
import { FencedError, type Store } from '../../src/store/contract.js';
import { attemptMonth, createAttemptPartition } from '../../src/store/postgres/attempt-partitions.js';
import { openPostgres } from '../../src/store/postgres/database.js';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import { dropSchema, freshSchemaName, postgresAvailable, TEST_DATABASE_URL } from '../support/postgres.js';
import { claimOf, NOW, seed, task } from './conformance/core-fixtures.js';

/**
 * What only PostgreSQL has: monthly partitions of attempts and the fence's row lock. Behaviour
 * shared with SQLite is in conformance/.
 */
const available = await postgresAvailable();

describe.skipIf(!available)('postgres store', () => {
  let schema: string;
  let store: Store;
  let sql: pg.Client;

  beforeEach(async () => {
    schema = freshSchemaName();
    store = await openPostgresStore({ url: TEST_DATABASE_URL, schema, max: 4 });
    await seed(store);
    sql = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
    await sql.connect();
  });
  afterEach(async () => {
    await sql.end();
    await store.close();
    await dropSchema(schema);
  });

  async function partitions(): Promise<string[]> {
    const { rows } = await sql.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'attempts'::regclass ORDER BY c.relname`,
    );
    return rows.map((r) => r.name);
  }

  it('names months in UTC and bounds them exactly', () => {
    expect(attemptMonth(Date.UTC(2027, 0, 31, 23, 59, 59, 999))).toEqual({
      name: 'attempts_p202701',
      fromMs: Date.UTC(2027, 0, 1),
      toMs: Date.UTC(2027, 1, 1),
    });
    expect(attemptMonth(Date.UTC(2027, 11, 15), 1)).toEqual({
      name: 'attempts_p202801',
      fromMs: Date.UTC(2028, 0, 1),
      toMs: Date.UTC(2028, 1, 1),
    });
  });

  it('creates a month’s partition, and the next one, before the first attempt is written there', async () => {
    expect(await partitions()).toEqual(['attempts_default']);
    const [a, b] = [task('a'), task('b')];
    await store.tasks.insertMany([a, b], { skipDuplicates: false, nowMs: NOW });
    await store.dispatch.claim([claimOf(a)], NOW); // January 2027
    await store.dispatch.claim([claimOf(b)], Date.UTC(2027, 2, 1)); // March
    expect(await partitions()).toEqual([
      'attempts_default',
      'attempts_p202701',
      'attempts_p202702',
      'attempts_p202703',
      'attempts_p202704',
    ]);
    const placed = await sql.query<{ partition: string; n: number }>(
      'SELECT tableoid::regclass::text AS partition, COUNT(*)::int AS n FROM attempts GROUP BY 1 ORDER BY 1',
    );
    expect(placed.rows).toEqual([
      { partition: 'attempts_p202701', n: 1 },
      { partition: 'attempts_p202703', n: 1 },
    ]);
  });

  it('moves a month’s rows out of the default partition when the month is created', async () => {
    const t = task('stray');
    await store.tasks.insertMany([t], { skipDuplicates: false, nowMs: NOW });
    const strayAt = Date.UTC(2031, 4, 10);
    // A row written where no month existed (by an older process, say) lands in the default partition.
    await sql.query(
      `INSERT INTO attempts (id, task_id, campaign_id, tenant_id, worker_id, switch_id, gateway_id, line_id, status, created_at)
       VALUES ($1, $2, 'c1', 'acme', 'w0', 'sw1', 'gw1', 'l1', 'created', $3)`,
      [uuidv7(strayAt), t.id, strayAt],
    );
    const db = await openPostgres({ url: TEST_DATABASE_URL, schema });
    try {
      expect(await createAttemptPartition(db, attemptMonth(strayAt))).toBe(true);
      expect(await createAttemptPartition(db, attemptMonth(strayAt))).toBe(false);
    } finally {
      await db.close();
    }
    expect((await sql.query('SELECT 1 FROM attempts_default')).rowCount).toBe(0);
    expect((await sql.query('SELECT 1 FROM attempts_p203105')).rowCount).toBe(1);
    expect((await store.dispatch.openAttempts('w0')).map((x) => x.createdAt)).toEqual([strayAt]);
    // The moved partition keeps the constraints and the cascade from its task.
    await sql.query('DELETE FROM tasks WHERE id = $1', [t.id]);
    expect((await sql.query('SELECT 1 FROM attempts')).rowCount).toBe(0);
  });

  it('creates a new month once when several processes write to it at the same time', async () => {
    const others = await Promise.all(
      [1, 2, 3].map(() => openPostgresStore({ url: TEST_DATABASE_URL, schema, max: 2 })),
    );
    try {
      const tasks = [task('x'), task('y'), task('z')];
      await store.tasks.insertMany(tasks, { skipDuplicates: false, nowMs: NOW });
      const at = Date.UTC(2029, 6, 1);
      const results = await Promise.all(others.map((s, i) => s.dispatch.claim([claimOf(tasks[i]!)], at)));
      expect(results).toEqual([[true], [true], [true]]);
      expect((await partitions()).filter((p) => p.startsWith('attempts_p2029'))).toEqual([
        'attempts_p202907',
        'attempts_p202908',
      ]);
    } finally {
      for (const s of others) await s.close();
    }
  });

  it('holds a deposed leader’s claim on the fence row until its successor commits, then refuses it', async () => {
    const t = task('a');
    await store.tasks.insertMany([t], { skipDuplicates: false, nowMs: NOW });
    // The successor is inside its claim: it has advanced the fence but not committed yet.
    await sql.query('BEGIN');
    await sql.query(`INSERT INTO fences (scope, token) VALUES ('scheduler', 2)`);
    const deposed = store.dispatch.claim([claimOf(t)], NOW, { scope: 'scheduler', token: 1 });
    const outcome = deposed.then(
      () => 'claimed',
      (error: unknown) => (error instanceof FencedError ? 'fenced' : error),
    );
    // Wait (without sleeping blind) until the deposed leader's statement waits on our row lock.
    const observer = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await observer.connect();
    try {
      await expect
        .poll(
          async () =>
            (
              await observer.query(
                `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO fences%'`,
              )
            ).rowCount,
          { timeout: 10_000, interval: 20 },
        )
        .toBe(1);
    } finally {
      await observer.end();
    }
    await sql.query('COMMIT');
    expect(await outcome).toBe('fenced');
    expect(await store.tasks.get('acme', t.id)).toMatchObject({ status: 'queued', attempts: [] });
    expect(await store.dispatch.currentFence('scheduler')).toBe(2);
  });

  it('records every migration once', async () => {
    const { rows } = await sql.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining(['001_core.sql']));
    expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
  });
});
