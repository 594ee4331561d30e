import type { PgDatabase } from './database.js';

/** One calendar month (UTC) of attempts: its partition's name and `created_at` bounds (epoch ms). */
export interface AttemptMonth {
  name: string;
  fromMs: number;
  toMs: number;
}

/** The month holding `atMs`, shifted by `offset` months. */
export function attemptMonth(atMs: number, offset = 0): AttemptMonth {
  const at = new Date(atMs);
  const fromMs = Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + offset, 1);
  const from = new Date(fromMs);
  const toMs = Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1);
  const month = String(from.getUTCMonth() + 1).padStart(2, '0');
  return { name: `attempts_p${from.getUTCFullYear()}${month}`, fromMs, toMs };
}

/**
 * Makes sure the monthly partition of `attempts` exists before rows are written into it. Each
 * store remembers the months it has made or found, so the hot path pays one Map lookup; a miss
 * creates the month and the next one (so the turn of a month needs no DDL on the dispatch path).
 *
 * Creation is safe under concurrency: processes serialise on an advisory lock and re-check the
 * catalogue. A month's rows that went to the DEFAULT partition meanwhile are moved into the new
 * partition in the same transaction (PostgreSQL refuses to create a partition whose range the
 * default partition already holds rows of).
 */
export class AttemptPartitions {
  private readonly months = new Map<string, Promise<void>>();

  constructor(private readonly db: PgDatabase) {}

  async ensureFor(atMs: number): Promise<void> {
    await Promise.all([this.ensure(attemptMonth(atMs)), this.ensure(attemptMonth(atMs, 1))]);
  }

  private ensure(month: AttemptMonth): Promise<void> {
    const known = this.months.get(month.name);
    if (known) return known;
    const made = createAttemptPartition(this.db, month).then(() => {});
    this.months.set(month.name, made);
    // A failure is not remembered: the next write tries again.
    made.catch(() => this.months.delete(month.name));
    return made;
  }
}

/** Creates one month's partition unless it exists; returns whether it was created here. */
export async function createAttemptPartition(db: PgDatabase, month: AttemptMonth): Promise<boolean> {
  return db.transaction(async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `switchboard:attempt-partitions:${db.schema}`,
    ]);
    const exists = await client.query(
      `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = current_schema() AND c.relname = $1`,
      [month.name],
    );
    if (exists.rowCount) return false;
    // The name and bounds are made of digits only (attemptMonth): safe to inline into DDL.
    const range = `FOR VALUES FROM (${month.fromMs}) TO (${month.toMs})`;
    const stray = await client.query(
      'SELECT 1 FROM attempts_default WHERE created_at >= $1 AND created_at < $2 LIMIT 1',
      [month.fromMs, month.toMs],
    );
    if (stray.rowCount === 0) {
      await client.query(`CREATE TABLE ${month.name} PARTITION OF attempts ${range}`);
      return true;
    }
    await client.query(`CREATE TABLE ${month.name} (LIKE attempts INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    await client.query(
      `WITH moved AS (DELETE FROM attempts_default WHERE created_at >= $1 AND created_at < $2 RETURNING *)
       INSERT INTO ${month.name} SELECT * FROM moved`,
      [month.fromMs, month.toMs],
    );
    await client.query(`ALTER TABLE attempts ATTACH PARTITION ${month.name} ${range}`);
    return true;
  });
}
