import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'migrations', 'postgres');

/** BIGINT (int8, oid 20) columns hold epoch milliseconds and counters: read them as numbers. */
pg.types.setTypeParser(20, (value) => Number(value));

/** Anything that runs a query: the pool, or one client inside a transaction. */
export type Queryable = Pick<pg.PoolClient, 'query'>;

export interface PgDatabase {
  readonly pool: pg.Pool;
  /** The schema every query of this store runs in (`search_path`). */
  readonly schema: string;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
  /**
   * Runs `work` in one transaction on one client: COMMIT when it resolves, ROLLBACK when it
   * throws (the error is rethrown). Serialization failures are not retried here.
   */
  transaction<T>(work: (client: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface PgOptions {
  /** postgres://… (SWITCHBOARD_DATABASE_URL). */
  url: string;
  /** Schema to use (created if missing); default `public`. Tests use one schema per file. */
  schema?: string;
  /** Pool size; default 10. */
  max?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** SQLSTATEs after which the same statements may simply run again: deadlock, serialization failure. */
const RETRYABLE = new Set(['40P01', '40001']);

/**
 * Runs `write` again when PostgreSQL aborted it as a deadlock victim or a serialization failure
 * (up to `attempts` times, a few ms apart). Batch updates of the hot path lock their rows in the
 * order of their input, so two batches sharing rows (a worker's group commit and an adopter's
 * takeover) can deadlock; the victim's work is whole and may be redone. Only for `write`s whose
 * effects are all in the database.
 */
export async function retryingDeadlocks<T>(write: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (attempt >= attempts || typeof code !== 'string' || !RETRYABLE.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * 8 * attempt));
    }
  }
}

/** Opens a pool on `schema` and applies the numbered migrations (safe to run from many processes). */
export async function openPostgres(options: PgOptions): Promise<PgDatabase> {
  const schema = options.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid PostgreSQL schema name: ${schema}`);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    // Every connection of this pool works inside the store's schema.
    options: `-c search_path=${schema}`,
  });
  // An idle client that errors (server restart) must not crash the process; the pool drops it.
  pool.on('error', () => {});
  const db: PgDatabase = {
    pool,
    schema,
    query: (text, values) => pool.query(text, values),
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
  try {
    await migrate(db);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return db;
}

/**
 * Applies the numbered, append-only migrations in order. All of them run under one
 * transaction-scoped advisory lock keyed by the schema, so a second process migrating at the same
 * time waits, then finds the work done (each migration is recorded in the same transaction).
 */
export async function migrate(db: PgDatabase): Promise<string[]> {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((name) => /^\d{3}_[a-z0-9_]+\.sql$/.test(name))
    .sort();
  return db.transaction(async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`switchboard:migrate:${db.schema}`]);
    // Under the lock: concurrent CREATE SCHEMA IF NOT EXISTS can still collide on the catalogue.
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${db.schema}`);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)',
    );
    const done = new Set(
      (await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name),
    );
    const applied: string[] = [];
    for (const name of files) {
      if (done.has(name)) continue;
      await client.query(readFileSync(join(MIGRATIONS_DIR, name), 'utf8'));
      await client.query('INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)', [
        name,
        Date.now(),
      ]);
      applied.push(name);
    }
    return applied;
  });
}

/** A broken reference: a missing parent or a RESTRICT on delete. */
export function isForeignKeyViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23503';
}

export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23505';
}
