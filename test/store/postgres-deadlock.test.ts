import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retryingDeadlocks } from '../../src/store/postgres/database.js';
import { dropSchema, freshSchemaName, postgresAvailable, TEST_DATABASE_URL } from '../support/postgres.js';

const hasPostgres = await postgresAvailable();

/**
 * Two batches that lock the same rows in opposite orders deadlock; PostgreSQL aborts one
 * (SQLSTATE 40P01). The hot path's batch writes are redone whole instead of being lost.
 */
describe.skipIf(!hasPostgres)('PostgreSQL deadlock victims are retried', () => {
  const schema = freshSchemaName('deadlock');
  let pool: pg.Pool;

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
    await pool.query('CREATE TABLE rows (id int PRIMARY KEY, v int NOT NULL)');
    await pool.query('INSERT INTO rows VALUES (1, 0), (2, 0)');
  });

  afterAll(async () => {
    await pool.end();
    await dropSchema(schema);
  });

  it('redoes the aborted transaction, so both batches land once', async () => {
    let runs = 0;
    let firstLocks = 0;
    let bothHoldOne: () => void = () => {};
    const bothLocked = new Promise<void>((resolve) => {
      bothHoldOne = resolve;
    });
    const batch = (first: number, second: number) =>
      retryingDeadlocks(async () => {
        runs++;
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await client.query('UPDATE rows SET v = v + 1 WHERE id = $1', [first]);
          if (++firstLocks === 2) bothHoldOne();
          await bothLocked;
          await client.query('UPDATE rows SET v = v + 1 WHERE id = $1', [second]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      });
    await Promise.all([batch(1, 2), batch(2, 1)]);
    expect(runs).toBe(3);
    const { rows } = await pool.query<{ id: number; v: number }>('SELECT id, v FROM rows ORDER BY id');
    expect(rows).toEqual([
      { id: 1, v: 2 },
      { id: 2, v: 2 },
    ]);
  });

  it('does not retry other errors', async () => {
    let runs = 0;
    await expect(
      retryingDeadlocks(async () => {
        runs++;
        await pool.query('SELECT * FROM no_such_table');
      }),
    ).rejects.toMatchObject({ code: '42P01' });
    expect(runs).toBe(1);
  });
});
