import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { checkpointInBackground } from '../../src/store/sqlite/background-checkpoints.js';
import { openSqlite } from '../../src/store/sqlite/database.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { makeTempDir } from '../support/temp-dir.js';

const dir = makeTempDir();
afterAll(() => dir.remove());

describe('WAL checkpoints on a thread of their own', () => {
  it('copies committed pages into the database file without the writer checkpointing', async () => {
    const path = join(dir.path, 'ckpt.db');
    const db = openSqlite(path);
    const stop = checkpointInBackground(db, path, 50);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const before = statSync(path).size;
    db.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO blobs (body) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 2_000; i++) insert.run(Buffer.alloc(4_000, i % 251));
    })();
    // The 8 MB are in the WAL; only a checkpoint puts them in the database file, and the writer
    // does none (wal_autocheckpoint = 0).
    await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(before + 7_000_000), {
      timeout: 10_000,
      interval: 50,
    });
    await stop();
    expect(db.prepare('SELECT COUNT(*) AS n FROM blobs').get()).toEqual({ n: 2_000 });
    db.close();
  });

  it('is stopped by the store’s close, which then closes the database', async () => {
    const store = openSqliteStore(join(dir.path, 'store.db'), { backgroundCheckpoints: true });
    await store.tenants.ensure({ id: 't1', name: 't1' }, 1);
    await store.close();
    const reopened = openSqliteStore(join(dir.path, 'store.db'));
    expect((await reopened.tenants.get('t1'))?.name).toBe('t1');
    await reopened.close();
  });
});
