import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Store } from '../../src/store/contract.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { dropSchema, freshSchemaName, postgresAvailable, TEST_DATABASE_URL } from '../support/postgres.js';

/**
 * A store as the security commands (`audit`, `keys`, `tokens`) find it: through the data folder
 * and the environment, as an operator's shell would give them. SQLite is the file in the data
 * folder; PostgreSQL is a fresh schema named by SWITCHBOARD_DATABASE_URL/_SCHEMA. Both also give
 * the raw database access an attacker (or a careless operator) would have.
 */
export interface CliSite {
  /** The data folder (`--data-dir`): the key file lives there for both stores. */
  dataDir: string;
  /** The environment to run the command with. */
  env: NodeJS.ProcessEnv;
  /** The same store, opened as the platform would. */
  open(): Promise<Store>;
  /** Runs SQL directly on the database, as the database's owner; triggers apply. */
  execute(sql: string): Promise<void>;
  /** Runs SQL directly after dropping the audit log's triggers: deliberate tampering. */
  tamper(sql: string): Promise<void>;
  dispose(): Promise<void>;
}

export interface CliStoreKind {
  name: 'sqlite' | 'postgres';
  /** A fresh, empty site under `parentDir`. */
  site(parentDir: string): Promise<CliSite>;
}

let counter = 0;

function dataDirUnder(parentDir: string): string {
  const dataDir = join(parentDir, `data-${process.pid}-${counter++}`);
  mkdirSync(dataDir);
  return dataDir;
}

const sqlite: CliStoreKind = {
  name: 'sqlite',
  async site(parentDir) {
    const dataDir = dataDirUnder(parentDir);
    const dbPath = join(dataDir, 'switchboard.db');
    const run = (sql: string) => {
      const db = new Database(dbPath);
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    };
    // Created and migrated now, as the platform would have left it.
    await openSqliteStore(dbPath).close();
    return {
      dataDir,
      env: { ...process.env, SWITCHBOARD_DATABASE_URL: '', SWITCHBOARD_DATABASE_SCHEMA: '' },
      open: async () => openSqliteStore(dbPath),
      execute: async (sql) => run(sql),
      tamper: async (sql) =>
        run(`DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete; ${sql}`),
      dispose: async () => {},
    };
  },
};

const postgres: CliStoreKind = {
  name: 'postgres',
  async site(parentDir) {
    const { openPostgresStore } = await import('../../src/store/postgres/index.js');
    const dataDir = dataDirUnder(parentDir);
    const schema = freshSchemaName('cli');
    const open = () => openPostgresStore({ url: TEST_DATABASE_URL, schema, max: 2 });
    await (await open()).close();
    const run = async (sql: string) => {
      const client = new pg.Client({
        connectionString: TEST_DATABASE_URL,
        options: `-c search_path=${schema}`,
      });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    };
    return {
      dataDir,
      env: {
        ...process.env,
        SWITCHBOARD_DATABASE_URL: TEST_DATABASE_URL,
        SWITCHBOARD_DATABASE_SCHEMA: schema,
      },
      open,
      execute: run,
      tamper: (sql) =>
        run(
          `DROP TRIGGER IF EXISTS audit_log_no_update ON audit_log; DROP TRIGGER IF EXISTS audit_log_no_delete ON audit_log; ${sql}`,
        ),
      dispose: () => dropSchema(schema),
    };
  },
};

/** SQLite always; PostgreSQL when it answers (always under CI, where its absence fails the run). */
export async function cliStoreKinds(): Promise<CliStoreKind[]> {
  return (await postgresAvailable()) ? [sqlite, postgres] : [sqlite];
}
