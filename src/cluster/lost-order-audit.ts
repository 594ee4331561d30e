import type { Logger } from 'pino';
import type { OpenAttempt, Store } from '../store/contract.js';
import type { Worker } from '../worker/worker.js';
import { ORDER_MAX_AGE_MS } from './messages.js';

/**
 * A live worker's check for orders it never received: an attempt the store says is this
 * worker's, open, older than any order a worker still accepts, that the worker neither follows
 * nor has ended with the ending still on its way to the store (a slow group commit is no loss)
 * — its order was lost on the bus (a Redis restart between the leader's claim and the worker's
 * read). Seen so on two checks running (an ended call's record may be a few ms from the store),
 * it is recovered like a gone worker's call: never cleared to send → `not_dialed`, dispatched
 * again at once; otherwise looked up on its switch and in the call records.
 */
export class LostOrderAudit {
  private suspects = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly worker: Worker,
    private readonly clock: () => number,
    private readonly logger: Logger,
    private readonly recover: (only: (attempt: OpenAttempt) => boolean) => Promise<unknown>,
    periodMs = 5_000,
  ) {
    this.timer = setInterval(() => {
      this.running = this.check().catch((error: unknown) =>
        this.logger.warn({ err: error }, 'checking for lost orders failed'),
      );
    }, periodMs);
    this.timer.unref();
  }

  async check(): Promise<void> {
    const startedAt = this.clock();
    const unfollowed = new Set<string>();
    for (const attemptId of (await this.store.dispatch.openAttemptIds(this.worker.workerId)).keys()) {
      if (!this.worker.knows(attemptId)) unfollowed.add(attemptId);
    }
    const lost = new Set([...unfollowed].filter((id) => this.suspects.has(id)));
    this.suspects = unfollowed;
    if (lost.size === 0) return;
    const oldEnough = (a: OpenAttempt) => startedAt - a.createdAt > ORDER_MAX_AGE_MS + 1_000;
    const recovered = (a: OpenAttempt) => lost.has(a.id) && !this.worker.knows(a.id) && oldEnough(a);
    this.logger.warn(
      { attempts: lost.size },
      'open attempts of this worker it never received: recovering them',
    );
    await this.recover(recovered);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
