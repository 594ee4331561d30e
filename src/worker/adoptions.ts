import type { OpenAttempt } from '../store/contract.js';
import { CallRecovery, type CallRecoveryOptions } from './recovery.js';

/**
 * A worker process's adoptions — its own calls left open by a previous run, a gone worker's, and
 * orders lost on the bus — each a `CallRecovery`, some of which wait for call records after they
 * return. `stop()` waits for the ones under way and stops the waiting ones, so nothing recovers
 * into a store that is closing (what is still open stays so, for the next run).
 */
export class Adoptions {
  readonly #waiting = new Set<CallRecovery>();
  readonly #running = new Set<Promise<unknown>>();
  #stopped = false;

  constructor(private readonly options: CallRecoveryOptions) {}

  /** Adopts the open calls of `fromWorkerId` (those `only` accepts); returns the ids now followed. */
  async adopt(fromWorkerId: string, only?: (attempt: OpenAttempt) => boolean): Promise<string[]> {
    if (this.#stopped) return [];
    const recovery = new CallRecovery(this.options);
    const running = recovery.recover(fromWorkerId, only);
    this.#running.add(running);
    try {
      const report = await running;
      if (report.awaiting.length > 0) {
        this.#waiting.add(recovery);
        void recovery.idle().then(() => this.#waiting.delete(recovery));
      }
      return report.followed;
    } finally {
      this.#running.delete(running);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.allSettled([...this.#running]);
    await Promise.all([...this.#waiting].map((recovery) => recovery.stop()));
    this.#waiting.clear();
  }
}
