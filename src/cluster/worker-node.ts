import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Coordination, Subscription } from '../coord/cluster-contract.js';
import type { DialOrder } from '../domain/dial-order.js';
import type { Worker } from '../worker/worker.js';
import {
  encodeWorkerInfo,
  isOrderMessage,
  ORDER_MAX_AGE_MS,
  type OrderMessage,
  STREAMS,
  type WorkerEvent,
} from './messages.js';

export interface WorkerNodeOptions {
  worker: Worker;
  coord: Coordination;
  clock: () => number;
  logger: Logger;
  /** Membership heartbeat period; the record lives three periods. */
  heartbeatMs?: number;
  /** An order older than this when it arrives is refused (`not_dialed`), never dialed late. */
  maxOrderAgeMs?: number;
  /** Re-reads switches from the store and reconnects (api changed them). */
  refreshSwitches(): Promise<void>;
  /** Takes over the open calls of a gone worker (or this worker's own, from a previous run). */
  adopt(fromWorkerId: string): Promise<string[]>;
}

/**
 * A worker process of a cluster: takes orders from its stream on the bus, places and follows the
 * calls, and reports what happens on `scheduler:events`; announces itself (membership) and its
 * view of every switch (votes) each heartbeat.
 *
 * It dials only while its membership is fresh: a worker paused past its record's life (GC, SIGSTOP)
 * may have been given up for dead and its calls adopted elsewhere, so on waking it refuses what
 * it had not yet sent. Orders older than `maxOrderAgeMs`, or from a leader older than the newest
 * it has seen, are refused the same way.
 */
export class WorkerNode {
  /** This process, as its membership record names it. */
  readonly instance = randomBytes(6).toString('hex');
  readonly #heartbeatMs: number;
  readonly #memberTtlMs: number;
  readonly #maxOrderAgeMs: number;
  #subscriptions: Subscription[] = [];
  #timer: NodeJS.Timeout | null = null;
  #heartbeatOkAtMs = 0;
  #newestFence = 0;
  #outbox: WorkerEvent[] = [];
  #flushScheduled = false;
  #stopped = false;

  constructor(private readonly options: WorkerNodeOptions) {
    this.#heartbeatMs = options.heartbeatMs ?? 1_000;
    this.#memberTtlMs = this.#heartbeatMs * 3;
    this.#maxOrderAgeMs = options.maxOrderAgeMs ?? ORDER_MAX_AGE_MS;
  }

  get workerId(): string {
    return this.options.worker.workerId;
  }

  /** Whether this process may still send an originate: its membership is younger than its life minus a margin. */
  mayDial(): boolean {
    return this.options.clock() - this.#heartbeatOkAtMs < this.#memberTtlMs - this.#heartbeatMs;
  }

  /** Worker → leader; batched per turn of the event loop. */
  report(event: WorkerEvent): void {
    this.#outbox.push(event);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => void this.flush());
  }

  /**
   * Call before anything else: resolves once no other process holds this worker id. A previous
   * run of this worker (crashed, its record not yet lapsed) is waited out — at most a record's
   * life; a record that is renewed meanwhile is a second live process under the same id, which
   * would be cleared to send the same calls: `WorkerIdInUseError`.
   */
  async ensureIdFree(): Promise<void> {
    const { coord, logger } = this.options;
    let lastExpiry: number | undefined;
    for (;;) {
      const holder = (await coord.members.live('worker')).find(
        (member) => member.memberId === this.workerId && member.info.instance !== this.instance,
      );
      if (!holder) return;
      if (lastExpiry !== undefined && holder.expiresAtMs > lastExpiry) {
        throw new WorkerIdInUseError(
          `worker id ${this.workerId} is in use by another live process (instance ${holder.info.instance ?? 'unknown'}): give each worker its own SWITCHBOARD_WORKER_ID`,
        );
      }
      if (lastExpiry === undefined)
        logger.info(
          { workerId: this.workerId },
          'worker id still held by a previous run; waiting for its membership to lapse',
        );
      lastExpiry = holder.expiresAtMs;
      await new Promise((resolve) => setTimeout(resolve, Math.max(10, this.#heartbeatMs / 2)));
    }
  }

  async start(): Promise<void> {
    const { coord, logger } = this.options;
    this.#subscriptions.push(
      coord.bus.subscribe(STREAMS.orders(this.workerId), (messages) => this.onOrders(messages)),
      coord.bus.subscribe(STREAMS.resources, () =>
        this.options
          .refreshSwitches()
          .catch((error: unknown) => logger.error({ err: error }, 'reloading switches failed')),
      ),
    );
    await this.heartbeat();
    this.#timer = setInterval(() => void this.heartbeat(), this.#heartbeatMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await Promise.all(this.#subscriptions.map((s) => s.close()));
    this.#subscriptions = [];
    await this.flush();
    await this.options.coord.members.leave('worker', this.workerId).catch(() => {});
  }

  /** Membership and votes; both carry what the leader needs to route calls to this worker. */
  async heartbeat(): Promise<void> {
    const { worker, coord, clock, logger } = this.options;
    if (this.#stopped) return;
    const started = clock();
    const switchIds = worker.switchIds();
    const ready = switchIds.filter((id) => worker.isSwitchUsable(id));
    try {
      await coord.members.heartbeat(
        'worker',
        this.workerId,
        this.#memberTtlMs,
        encodeWorkerInfo({
          maxCalls: worker.maxCalls,
          activeCalls: worker.activeCalls,
          readySwitches: ready,
          instance: this.instance,
        }),
      );
      this.#heartbeatOkAtMs = started;
      await Promise.all(
        switchIds.map((id) =>
          coord.votes.vote(id, this.workerId, worker.isSwitchUsable(id), this.#memberTtlMs),
        ),
      );
    } catch (error) {
      logger.warn({ err: error }, 'heartbeat to coordination failed');
    }
  }

  /** A switch link changed: vote at once (R3.9: the pool reacts in well under a heartbeat). */
  switchChanged(switchId: string, usable: boolean): void {
    this.report({ kind: 'switch', workerId: this.workerId, switchId, usable });
    void this.options.coord.votes
      .vote(switchId, this.workerId, usable, this.#memberTtlMs)
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'vote failed'));
  }

  private async onOrders(messages: unknown[]): Promise<void> {
    const { logger } = this.options;
    const adoptions: Array<Extract<OrderMessage, { kind: 'adopt' }>> = [];
    for (const message of messages) {
      if (!isOrderMessage(message)) {
        logger.error({ message: typeof message }, 'malformed order dropped');
        continue;
      }
      if (message.fence < this.#newestFence) {
        if (message.kind === 'dial') this.refuse(message.order, 'ORDER_FROM_DEPOSED_LEADER');
        continue;
      }
      this.#newestFence = message.fence;
      if (message.kind === 'dial') this.dial(message.order);
      else adoptions.push(message);
    }
    for (const adoption of adoptions) {
      try {
        const attemptIds = await this.options.adopt(adoption.fromWorkerId);
        if (attemptIds.length > 0)
          this.report({
            kind: 'adopted',
            workerId: this.workerId,
            fromWorkerId: adoption.fromWorkerId,
            attemptIds,
          });
      } catch (error) {
        logger.error({ err: error, from: adoption.fromWorkerId }, 'adopting calls failed');
      }
    }
  }

  private dial(order: DialOrder): void {
    const age = this.options.clock() - order.dispatchedAtMs;
    if (age > this.#maxOrderAgeMs) {
      this.refuse(order, 'ORDER_TOO_OLD');
      return;
    }
    // Checked in the same synchronous step as the write to the switch.
    if (!this.mayDial()) {
      this.refuse(order, 'WORKER_MEMBERSHIP_EXPIRED');
      return;
    }
    this.options.worker.dial(order);
  }

  private refuse(order: DialOrder, reason: string): void {
    this.options.logger.warn(
      { attemptId: order.attemptId, reason },
      'order refused; the call was not placed',
    );
    this.options.worker.refuse(order, reason);
  }

  private async flush(): Promise<void> {
    this.#flushScheduled = false;
    if (this.#outbox.length === 0) return;
    const batch = this.#outbox;
    this.#outbox = [];
    await this.options.coord.bus
      .publish(STREAMS.events, batch)
      .catch((error: unknown) =>
        this.options.logger.error({ err: error, events: batch.length }, 'reporting to the scheduler failed'),
      );
  }
}

export class WorkerIdInUseError extends Error {
  override readonly name = 'WorkerIdInUseError';
}
