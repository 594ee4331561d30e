import { join } from 'node:path';
import type { Store } from '../../src/store/contract.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { dropSchema, freshSchemaName, postgresAvailable, TEST_DATABASE_URL } from './postgres.js';
import { makeTempDir } from './temp-dir.js';

/** One store implementation as a conformance suite sees it. */
export interface StoreKind {
  name: 'sqlite' | 'postgres';
  /** A fresh, empty, migrated store; `dispose` closes it and removes its file or schema. */
  open(): Promise<{ store: Store; dispose(): Promise<void> }>;
  /**
   * `count` stores on one fresh database (one file, one schema), as separate processes would
   * have: what one writes the others see. `atOnce` opens them concurrently, so that their schema
   * creation and migrations race; otherwise one after the other.
   */
  openShared(
    count: number,
    options?: { atOnce?: boolean },
  ): Promise<{ stores: Store[]; dispose(): Promise<void> }>;
}

const sqlite: StoreKind = {
  name: 'sqlite',
  async open() {
    const { stores, dispose } = await sqlite.openShared(1);
    return { store: stores[0]!, dispose };
  },
  async openShared(count) {
    const dir = makeTempDir('switchboard-store-');
    const path = join(dir.path, 'switchboard.db');
    const stores = Array.from({ length: count }, () => openSqliteStore(path));
    return {
      stores,
      async dispose() {
        for (const store of stores) await store.close();
        dir.remove();
      },
    };
  },
};

const postgres: StoreKind = {
  name: 'postgres',
  async open() {
    const { stores, dispose } = await postgres.openShared(1);
    return { store: stores[0]!, dispose };
  },
  async openShared(count, options) {
    const { openPostgresStore } = await import('../../src/store/postgres/index.js');
    const schema = freshSchemaName();
    const open = () => openPostgresStore({ url: TEST_DATABASE_URL, schema, max: 4 });
    const opened: PromiseSettledResult<Store>[] = [];
    if (options?.atOnce) opened.push(...(await Promise.allSettled(Array.from({ length: count }, open))));
    else for (let i = 0; i < count; i++) opened.push(...(await Promise.allSettled([open()])));
    const stores = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const dispose = async () => {
      for (const store of stores) await store.close();
      await dropSchema(schema);
    };
    const failed = opened.find((result) => result.status === 'rejected');
    if (failed) {
      await dispose();
      throw failed.reason;
    }
    return { stores, dispose };
  },
};

/**
 * The store implementations to run a conformance suite against: SQLite always, PostgreSQL when
 * it answers (always under CI, where its absence fails the run instead of skipping).
 */
export async function storeKinds(): Promise<StoreKind[]> {
  return (await postgresAvailable()) ? [sqlite, postgres] : [sqlite];
}
