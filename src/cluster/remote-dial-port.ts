import type { MessageBus } from '../coord/cluster-contract.js';
import type { DialOrder, DialPort } from '../domain/dial-order.js';
import { ORDER_MAX_AGE_MS, type OrderMessage, STREAMS, type WorkerInfo } from './messages.js';

interface WorkerBook {
  maxCalls: number;
  readySwitches: Set<string>;
  /** Calls the leader handed it (or found open at takeover) that have not ended yet. */
  inFlight: Set<string>;
}

/**
 * The workers of a cluster, as the leader's scheduler sees them: one DialPort over many
 * processes. Which workers live and which switches each reaches come from membership (and from
 * the workers' own switch events, which arrive sooner); which calls each follows is the leader's
 * own book — in at the order, out at the ended call, moved at an adoption, put right against the
 * store by the scheduler's reconciliation — so it never hands a worker more than it can take.
 * Orders go out on each worker's stream, batched per turn of the event loop.
 */
export class RemoteDialPort implements DialPort {
  readonly #workers = new Map<string, WorkerBook>();
  /** Which worker follows each call in flight (the books are kept by attempt, so no word counts twice). */
  readonly #followedBy = new Map<string, string>();
  readonly #outbox = new Map<string, OrderMessage[]>();
  #flushScheduled = false;

  constructor(
    private readonly bus: MessageBus,
    private readonly fence: () => number | null,
    private readonly onPublishError: (error: unknown) => void,
    /**
     * Awaited before each batch of orders leaves (the slot ledger's sync): false holds the batch's
     * dial orders back — never published, so never sent; their attempts, claimed but unordered,
     * are recovered as `not_dialed` by the workers' lost-order check.
     */
    private readonly beforePublish: () => Promise<boolean> = async () => true,
    private readonly onHeldBack: (orders: number) => void = () => {},
  ) {}

  /** Replaces the set of live workers and what each reaches (from membership). */
  setLiveWorkers(live: ReadonlyMap<string, WorkerInfo>): { gone: string[]; joined: string[] } {
    const gone: string[] = [];
    const joined: string[] = [];
    for (const id of this.#workers.keys()) {
      if (!live.has(id)) {
        this.#workers.delete(id);
        gone.push(id);
      }
    }
    for (const [id, info] of live) {
      const book = this.#workers.get(id);
      if (book) {
        book.maxCalls = info.maxCalls;
        book.readySwitches = new Set(info.readySwitches);
      } else {
        const inFlight = new Set<string>();
        for (const [attemptId, workerId] of this.#followedBy) if (workerId === id) inFlight.add(attemptId);
        this.#workers.set(id, {
          maxCalls: info.maxCalls,
          readySwitches: new Set(info.readySwitches),
          inFlight,
        });
        joined.push(id);
      }
    }
    return { gone, joined };
  }

  /** A call found open at takeover (or adopted) is followed by this worker. */
  noteFollowing(workerId: string, attemptId: string): void {
    const was = this.#followedBy.get(attemptId);
    if (was !== undefined) this.#workers.get(was)?.inFlight.delete(attemptId);
    this.#followedBy.set(attemptId, workerId);
    this.#workers.get(workerId)?.inFlight.add(attemptId);
  }

  /** `to` now follows these calls (adoption). */
  noteAdopted(to: string, attemptIds: readonly string[]): void {
    for (const attemptId of attemptIds) this.noteFollowing(to, attemptId);
  }

  noteEnded(attemptId: string): void {
    const workerId = this.#followedBy.get(attemptId);
    if (workerId === undefined) return;
    this.#followedBy.delete(attemptId);
    this.#workers.get(workerId)?.inFlight.delete(attemptId);
  }

  reconcile(open: ReadonlyMap<string, string>, lost: readonly string[]): void {
    for (const attemptId of lost) this.noteEnded(attemptId);
    // An adoption whose word was lost: the store says who follows the call now.
    for (const [attemptId, workerId] of this.#followedBy) {
      const actual = open.get(attemptId);
      if (actual !== undefined && actual !== workerId) this.noteFollowing(actual, attemptId);
    }
  }

  noteSwitch(workerId: string, switchId: string, usable: boolean): void {
    const book = this.#workers.get(workerId);
    if (!book) return;
    if (usable) book.readySwitches.add(switchId);
    else book.readySwitches.delete(switchId);
  }

  liveWorkers(): string[] {
    return [...this.#workers.keys()];
  }

  isSwitchUsable(switchId: string): boolean {
    for (const book of this.#workers.values()) if (book.readySwitches.has(switchId)) return true;
    return false;
  }

  spareCapacity(): number {
    let spare = 0;
    for (const book of this.#workers.values()) spare += Math.max(0, book.maxCalls - book.inFlight.size);
    return spare;
  }

  /** The live worker reaching this switch with the most room; its book counts the call from now. */
  assignWorker(switchId: string, attemptId: string): string | undefined {
    let best: string | undefined;
    let bestSpare = 0;
    for (const [id, book] of this.#workers) {
      const spare = book.maxCalls - book.inFlight.size;
      if (spare > bestSpare && book.readySwitches.has(switchId)) {
        best = id;
        bestSpare = spare;
      }
    }
    if (best !== undefined) this.noteFollowing(best, attemptId);
    return best;
  }

  /** An assignment whose claim was lost: the worker's book gives the call back. */
  assignmentDropped(attemptId: string): void {
    this.noteEnded(attemptId);
  }

  dial(order: DialOrder, workerId?: string): void {
    const fence = this.fence();
    if (workerId === undefined || fence === null) return;
    this.send(workerId, {
      kind: 'dial',
      fence,
      order: { ...order, sendByMs: order.dispatchedAtMs + ORDER_MAX_AGE_MS },
    });
  }

  /** Asks `toWorkerId` to take over the open calls of `fromWorkerId`. */
  requestAdoption(toWorkerId: string, fromWorkerId: string): void {
    const fence = this.fence();
    if (fence === null) return;
    this.send(toWorkerId, { kind: 'adopt', fence, fromWorkerId });
  }

  /** Whatever is still in the outbox is published now. */
  async flush(): Promise<void> {
    this.#flushScheduled = false;
    let batches = [...this.#outbox];
    this.#outbox.clear();
    if (batches.length === 0) return;
    if (!(await this.beforePublish())) {
      let held = 0;
      batches = batches
        .map(([workerId, messages]): [string, OrderMessage[]] => {
          const kept = messages.filter((message) => message.kind !== 'dial');
          held += messages.length - kept.length;
          return [workerId, kept];
        })
        .filter(([, messages]) => messages.length > 0);
      if (held > 0) this.onHeldBack(held);
    }
    await Promise.all(
      batches.map(([workerId, messages]) =>
        this.bus.publish(STREAMS.orders(workerId), messages).catch(this.onPublishError),
      ),
    );
  }

  private send(workerId: string, message: OrderMessage): void {
    const queue = this.#outbox.get(workerId);
    if (queue) queue.push(message);
    else this.#outbox.set(workerId, [message]);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => void this.flush());
    }
  }
}
