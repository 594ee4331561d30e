import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'migrations', 'sqlite');

/**
 * Opens the embedded database: WAL so readers never block the writer, synchronous=NORMAL (a
 * committed transaction survives a process crash; the last ones may be lost only on power loss),
 * foreign keys on. Measured in ARCHITECTURE.md: ~850k inserts/s in batched transactions.
 */
export function openSqlite(path: string): SqliteDatabase {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

/**
 * Applies the numbered, append-only migrations in order, each in its own IMMEDIATE transaction
 * that first re-reads what is applied: a second process migrating the same file at the same time
 * waits for the lock, then finds the work done.
 */
export function migrate(db: SqliteDatabase): string[] {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)',
  );
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((name) => /^\d{3}_[a-z0-9_]+\.sql$/.test(name))
    .sort();
  const applied: string[] = [];
  for (const name of files) {
    const apply = db.transaction(() => {
      const done = db.prepare('SELECT 1 FROM schema_migrations WHERE name = ?').get(name);
      if (done) return false;
      db.exec(readFileSync(join(MIGRATIONS_DIR, name), 'utf8'));
      db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(name, Date.now());
      return true;
    });
    if (apply.immediate()) applied.push(name);
  }
  return applied;
}

/** Encodes a list cursor; ids are UUIDv7, so "after this id" is "younger than this item". */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string {
  if (!cursor) return '';
  return Buffer.from(cursor, 'base64url').toString('utf8');
}

/** A broken reference: a missing parent (FOREIGNKEY) or a RESTRICT on delete (reported as TRIGGER). */
export function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === 'SQLITE_CONSTRAINT_TRIGGER';
}

export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
