import { Worker } from 'node:worker_threads';
import type { SqliteDatabase } from './database.js';

/**
 * The WAL's checkpoints, run on a thread of their own instead of inside a commit on the event
 * loop. SQLite's automatic checkpoint copies the WAL back into the database file (and syncs it)
 * in whichever commit crosses the threshold: at 1,000 dispatches a second that commit stalled the
 * platform's loop for tens of ms, and the tasks falling due meanwhile waited (docs/benchmarks.md,
 * end to end: event-loop delay p99 4.2–5.0 ms with this, 5.9–8.5 without). A PASSIVE checkpoint
 * on a second connection never blocks the writer; the WAL is reset by the next commit once a
 * checkpoint has caught up.
 */
const CHECKPOINTER = `
const Database = require('better-sqlite3');
const { parentPort, workerData } = require('node:worker_threads');
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or closing: the next round tries again; the main connection can always checkpoint.
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** Hands `db`'s checkpoints to a thread; the returned function stops it (before `db` closes). */
export function checkpointInBackground(
  db: SqliteDatabase,
  path: string,
  intervalMs = 500,
): () => Promise<void> {
  db.pragma('wal_autocheckpoint = 0');
  const worker = new Worker(CHECKPOINTER, { eval: true, workerData: { path, intervalMs } });
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  // A thread that dies (it should not) leaves the checkpoints to the main connection again.
  worker.once('error', () => {
    if (db.open) db.pragma('wal_autocheckpoint = 1000');
  });
  return async () => {
    worker.postMessage('close');
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref());
    await Promise.race([exited, timeout]);
    await worker.terminate();
  };
}
