import type { Logger } from 'pino';
import type { LeaderLease } from '../coord/cluster-contract.js';
import type { FenceToken } from '../store/contract.js';

export interface LeadershipOptions {
  lease: LeaderLease;
  /** e.g. `scheduler` */
  scope: string;
  holderId: string;
  ttlMs: number;
  /** The store's highest token of this scope: a Redis that lost its data cannot hand out an older one. */
  floorToken(): Promise<number>;
  clock: () => number;
  logger: Logger;
  /** Called once per term, after the lease is won; the term's work starts here. */
  elected(token: number): Promise<void>;
  /** Called once when a term ends (lease lost, renewal failed past its margin, or fenced). */
  deposed(): Promise<void>;
}

/**
 * One process's bid for leadership of a scope (the scheduler: one active, warm standbys).
 *
 * A leader tries to renew every quarter lease; it counts itself leader only while its last
 * successful renewal is younger than the lease minus a margin (a quarter lease), whatever Redis
 * answers or fails to answer since: so it stops dispatching before the lease can pass to another
 * process. The token it holds fences its writes in the store — a leader that stalls (GC, SIGSTOP)
 * past its lease finds its claims refused there even if it has not yet noticed.
 */
export class Leadership {
  #token: number | null = null;
  #renewedAtMs = 0;
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #transition: Promise<void> = Promise.resolve();

  constructor(private readonly options: LeadershipOptions) {}

  get isLeader(): boolean {
    return this.fence() !== null;
  }

  /** The fencing token, while this process may act as leader; null otherwise. */
  fence(): FenceToken | null {
    if (this.#token === null) return null;
    const { clock, ttlMs, scope } = this.options;
    if (clock() - this.#renewedAtMs > ttlMs - this.margin) return null;
    return { scope, token: this.#token };
  }

  private get margin(): number {
    return Math.max(100, Math.floor(this.options.ttlMs / 4));
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.tick();
  }

  /** Ends the term (releasing the lease so a standby takes over at once) and stops bidding. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#transition;
    const token = this.#token;
    if (token !== null) {
      await this.depose('stopping');
      await this.options.lease
        .release(this.options.scope, this.options.holderId, token)
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error }, 'could not release the leader lease'),
        );
    }
  }

  /** Ends this term now (the store refused our token, or the term's work died); bidding goes on. */
  stepDown(why: string): void {
    if (this.#token !== null) void this.depose(why);
  }

  private async tick(): Promise<void> {
    const { lease, scope, holderId, ttlMs, clock, logger } = this.options;
    try {
      if (this.#token === null) {
        const floor = await this.options.floorToken();
        const started = clock();
        const token = await lease.acquire(scope, holderId, ttlMs, floor);
        if (token !== null && this.#running) {
          this.#token = token;
          this.#renewedAtMs = started;
          logger.info({ scope, token }, 'elected leader');
          // The term starts in the background: renewals must go on while it reads the world.
          this.#transition = this.options.elected(token).catch((error: unknown) => {
            logger.error({ err: error }, 'starting the leader term failed');
            return this.depose('start failed');
          });
        }
      } else {
        const started = clock();
        const kept = await lease.renew(scope, holderId, this.#token, ttlMs);
        if (kept) this.#renewedAtMs = started;
        else await this.depose('lease lost');
      }
    } catch (error) {
      logger.warn({ err: error, scope }, 'leader lease unreachable');
    }
    if (this.#token !== null && this.fence() === null) await this.depose('lease not renewed in time');
    if (this.#running) this.#timer = setTimeout(() => void this.tick(), Math.max(50, Math.floor(ttlMs / 4)));
  }

  private async depose(why: string): Promise<void> {
    if (this.#token === null) return;
    this.options.logger.warn({ scope: this.options.scope, token: this.#token, why }, 'leadership ended');
    this.#token = null;
    await this.options
      .deposed()
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'ending the leader term failed'));
  }
}
