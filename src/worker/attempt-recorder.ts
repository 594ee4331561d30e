import type { Logger } from 'pino';
import type { AttemptEnding, AttemptProgress, Store } from '../store/contract.js';

/**
 * Writes call progress and endings in group commits (ARCHITECTURE decision 7): events are
 * collected for a few milliseconds and written in one transaction, so the hot path never waits
 * on one row at a time. `flush()` drains everything (used on stop and by tests).
 */
export class AttemptRecorder {
  private progress: AttemptProgress[] = [];
  private endings: AttemptEnding[] = [];
  private campaignIds = new Set<string>();
  /** Attempts whose ending is recorded here but not yet written (pending, or in a write under way). */
  private readonly unwritten = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly logger: Logger,
    private readonly delayMs = 10,
    private readonly maxBatch = 1_000,
    /** Told which campaigns' tasks moved once a batch is durable (requeued tasks are due again). */
    private readonly onWritten: (campaignIds: ReadonlySet<string>) => void = () => {},
  ) {}

  recordProgress(item: AttemptProgress): void {
    this.progress.push(item);
    this.schedule();
  }

  recordEnding(item: AttemptEnding, campaignId: string): void {
    this.endings.push(item);
    this.unwritten.add(item.attemptId);
    this.campaignIds.add(campaignId);
    this.schedule();
  }

  get pending(): number {
    return this.progress.length + this.endings.length;
  }

  /**
   * Whether this attempt's ending waits here to be written: the store still shows it open, yet it
   * is settled (so a check for calls nobody follows must leave it alone).
   */
  isEndingUnwritten(attemptId: string): boolean {
    return this.unwritten.has(attemptId);
  }

  private schedule(): void {
    if (this.pending >= this.maxBatch) {
      void this.flush();
      return;
    }
    this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
  }

  /** Writes whatever is pending; resolves when it is durable. Writes never overlap. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const progress = this.progress;
    const endings = this.endings;
    const campaignIds = this.campaignIds;
    this.progress = [];
    this.endings = [];
    this.campaignIds = new Set();
    this.writing = this.writing.then(async () => {
      if (progress.length === 0 && endings.length === 0) return;
      try {
        // Progress first: an ending in the same batch must find its stage times already set.
        await this.store.dispatch.recordProgress(progress);
        await this.store.dispatch.finish(endings, this.clock());
        if (campaignIds.size > 0) this.onWritten(campaignIds);
      } catch (error) {
        // Nothing is dropped silently: the rows stay open, and recovery (the lost-order check, or a
        // restart) settles them from the switch and its call records.
        this.logger.error(
          { err: error, progress: progress.length, endings: endings.length },
          'writing call records failed',
        );
      } finally {
        for (const ending of endings) this.unwritten.delete(ending.attemptId);
      }
    });
    return this.writing;
  }
}
