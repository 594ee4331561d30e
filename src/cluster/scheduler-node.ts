import type { Logger } from 'pino';
import type { Coordination, Subscription } from '../coord/cluster-contract.js';
import { MemoryDialSlots } from '../coord/memory-dial-slots.js';
import { switchVerdict } from '../coord/switch-verdict.js';
import type { PlatformMetrics } from '../observability/metrics.js';
import { Scheduler } from '../scheduler/scheduler.js';
import type { Store } from '../store/contract.js';
import { Leadership } from './leadership.js';
import { LedgeredDialSlots, LedgerSync } from './ledgered-dial-slots.js';
import {
  decodeWorkerInfo,
  isNotice,
  isRpcRequest,
  isWorkerEvent,
  ORDER_MAX_AGE_MS,
  type RpcRequest,
  STREAMS,
  type WorkerEvent,
  type WorkerInfo,
} from './messages.js';
import { RemoteDialPort } from './remote-dial-port.js';

export const SCHEDULER_SCOPE = 'scheduler';

export interface SchedulerNodeOptions {
  store: Store;
  coord: Coordination;
  holderId: string;
  leaderTtlMs: number;
  clock: () => number;
  logger: Logger;
  metrics: PlatformMetrics;
  capsGuardMs: number;
  capsToleranceMs: number;
  warmupMs: number;
  /** How often the leader reads membership and votes. */
  pollMs?: number;
  /**
   * When the slot ledger it takes is incomplete (lost with a Redis restart), a new leader waits
   * this long before its first dispatch (default: ORDER_MAX_AGE_MS + one CAPS window): the
   * previous leader's last orders (refused by workers once older than that age) have all been
   * sent and left the window by then, so the new pace never adds to the old one. With a complete
   * ledger it starts at once, from its predecessor's pace.
   */
  quietMs?: number;
}

/** One leadership term: the scheduler and everything wired to it, built at election, torn down at the end. */
interface Term {
  token: number;
  scheduler: Scheduler;
  port: RemoteDialPort;
  slots: LedgeredDialSlots;
  ledger: LedgerSync;
  /** Its memory holds every grant that can still reach a switch (after a complete takeover or the quiet period). */
  ledgerComplete: boolean;
  subscriptions: Subscription[];
  /** Switch pool membership by votes (R3.9). */
  inPool: Map<string, boolean>;
  timer: NodeJS.Timeout | null;
  /** Gone workers whose calls were handed to a live one, so they are asked only once. */
  adoptionsAsked: Set<string>;
  adoptionsCheckedAtMs: number;
}

/**
 * The scheduler role of a cluster: bids for the leader lease; while it leads, runs the scheduler
 * against the workers of the cluster (RemoteDialPort), fenced by its token; when it loses the
 * lease, stops at once and goes back to standby. A standby holds nothing but its bid, so a
 * takeover rebuilds everything from the store (open attempts hold their slots again) and from
 * coordination (live workers, votes).
 */
export class SchedulerNode {
  readonly leadership: Leadership;
  #term: Term | null = null;

  constructor(private readonly options: SchedulerNodeOptions) {
    this.leadership = new Leadership({
      lease: options.coord.leader,
      scope: SCHEDULER_SCOPE,
      holderId: options.holderId,
      ttlMs: options.leaderTtlMs,
      floorToken: () => options.store.dispatch.currentFence(SCHEDULER_SCOPE),
      clock: options.clock,
      logger: options.logger.child({ part: 'leadership' }),
      elected: (token) => this.beginTerm(token),
      deposed: () => this.endTerm(),
    });
  }

  get isLeader(): boolean {
    return this.leadership.isLeader;
  }

  /** The running scheduler while this process leads. */
  get scheduler(): Scheduler | undefined {
    return this.#term?.scheduler;
  }

  start(): void {
    this.leadership.start();
  }

  async stop(): Promise<void> {
    await this.leadership.stop();
  }

  private async beginTerm(token: number): Promise<void> {
    const { store, coord, clock, logger, metrics } = this.options;
    const memory = new MemoryDialSlots(
      this.options.capsGuardMs,
      this.options.capsToleranceMs,
      ORDER_MAX_AGE_MS,
    );
    let ledger: LedgerSync | undefined;
    const slots = new LedgeredDialSlots(memory, ORDER_MAX_AGE_MS, () =>
      setImmediate(() => void ledger?.sync()),
    );
    const fence = () => this.leadership.fence()?.token ?? null;
    ledger = new LedgerSync({
      ledger: coord.ledger,
      slots,
      fence,
      clock,
      logger: logger.child({ part: 'ledger' }),
      onFenced: () => this.leadership.stepDown('fenced by the slot ledger'),
      mayRebuild: () => this.#term === term && term.ledgerComplete,
    });
    const port = new RemoteDialPort(
      coord.bus,
      fence,
      (error) => logger.error({ err: error }, 'publishing orders failed'),
      () => (ledger ? ledger.sync() : Promise.resolve(false)),
      (orders) =>
        logger.error(
          { orders },
          'orders held back: the slot ledger could not be written (their attempts end not_dialed)',
        ),
    );
    const scheduler = new Scheduler({
      store,
      slots,
      worker: port,
      workerId: this.options.holderId,
      clock,
      logger: logger.child({ part: 'scheduler' }),
      metrics,
      warmupMs: this.options.warmupMs,
      fence: () => this.leadership.fence(),
      onFenced: () => this.leadership.stepDown('fenced by the store'),
      // A leader whose loop died must not sit on the lease: a standby takes over.
      onLoopFailed: () => this.leadership.stepDown('scheduler loop failed'),
    });
    const term: Term = {
      token,
      scheduler,
      port,
      slots,
      ledger,
      ledgerComplete: false,
      subscriptions: [],
      inPool: new Map(),
      timer: null,
      adoptionsAsked: new Set(),
      adoptionsCheckedAtMs: 0,
    };
    this.#term = term;
    // Listen first, then read the world: an event that lands in between is applied, not lost.
    term.subscriptions.push(
      coord.bus.subscribe(STREAMS.events, (messages) => this.onEvents(term, messages)),
      coord.bus.subscribe(STREAMS.notices, (messages) => {
        for (const notice of messages) {
          if (!isNotice(notice)) continue;
          if (notice.kind === 'tasks') scheduler.tasksSubmitted(notice.campaignId);
          else if (notice.kind === 'campaign') scheduler.campaignChanged(notice.campaignId);
          else if (notice.kind === 'tenants') scheduler.tenantsChanged();
          else scheduler.resourcesChanged();
        }
      }),
      coord.bus.serve(STREAMS.rpc, (request) => this.answer(term, request)),
    );
    // The fence moves in the store now, so a deposed leader's next claim is refused from here on.
    await store.dispatch.claim([], clock(), { scope: SCHEDULER_SCOPE, token });
    // And in the ledger: a deposed leader's next write is refused, so it publishes no more orders;
    // every grant it published before is in what this take returns.
    const paceWindowMs = 1_000 + this.options.capsGuardMs;
    const snapshot = await coord.ledger.take(token, clock(), paceWindowMs).catch((error: unknown) => {
      logger.warn({ err: error }, 'reading the slot ledger failed: starting after the quiet period');
      return undefined;
    });
    if (snapshot === null) {
      this.leadership.stepDown('a newer leader holds the slot ledger');
      return;
    }
    if (snapshot) memory.restorePace(snapshot.pace);
    await scheduler.prepare();
    const open = await store.dispatch.openAttempts();
    for (const attempt of open) {
      scheduler.adoptCall(attempt);
      port.noteFollowing(attempt.workerId, attempt.id);
    }
    await this.poll(term);
    const complete = snapshot?.complete === true;
    logger.info(
      { token, openCalls: open.length, workers: port.liveWorkers().length, ledgerComplete: complete },
      'leader term begins',
    );
    // The ledger now holds this leader's state: its predecessors' pace, the store's open calls.
    await this.rewriteLedger(term, complete);
    if (!complete) {
      // The previous leader's last grants reach their switches within ORDER_MAX_AGE_MS of its last
      // decision (before its lease ran out); one CAPS window after that they count no more.
      const quietMs = this.options.quietMs ?? ORDER_MAX_AGE_MS + 1_000 + this.options.capsGuardMs + 50;
      await new Promise((resolve) => setTimeout(resolve, quietMs));
      if (this.#term !== term) return;
      await this.rewriteLedger(term, true);
    }
    if (this.#term !== term) return;
    term.ledgerComplete = true;
    scheduler.start();
    const pollMs = this.options.pollMs ?? 500;
    const loop = async () => {
      if (this.#term !== term) return;
      await this.poll(term).catch((error: unknown) => logger.warn({ err: error }, 'reading workers failed'));
      // Releases queued while a write failed go out with the next grant, or here.
      await term.ledger.sync();
      if (this.#term === term) term.timer = setTimeout(() => void loop(), pollMs);
    };
    term.timer = setTimeout(() => void loop(), pollMs);
  }

  /** Replaces the ledger with this leader's whole state; a failure is logged and left to the next writes. */
  private async rewriteLedger(term: Term, complete: boolean): Promise<void> {
    const { coord, clock, logger } = this.options;
    term.slots.takePending();
    try {
      const result = await coord.ledger.replace(term.token, term.slots.slots.exportState(clock()), complete);
      if (result === 'fenced') this.leadership.stepDown('a newer leader holds the slot ledger');
    } catch (error) {
      logger.warn({ err: error }, 'writing the slot ledger failed; the next writes add to it');
    }
  }

  private async endTerm(): Promise<void> {
    const term = this.#term;
    if (!term) return;
    this.#term = null;
    if (term.timer) clearTimeout(term.timer);
    await term.scheduler.stop();
    await Promise.all(term.subscriptions.map((s) => s.close()));
    await term.port.flush();
  }

  /** Live workers, their switches, and the switch pool by majority of votes (R3.9). */
  private async poll(term: Term): Promise<void> {
    const { coord, logger } = this.options;
    const members = await coord.members.live('worker');
    const live = new Map<string, WorkerInfo>();
    for (const member of members) {
      const info = decodeWorkerInfo(member.info);
      if (info) live.set(member.memberId, info);
    }
    const { gone } = term.port.setLiveWorkers(live);
    for (const workerId of gone) logger.warn({ workerId }, 'worker gone; its calls will be adopted');
    const now = this.options.clock();
    if (gone.length > 0 || now - term.adoptionsCheckedAtMs >= 10_000) {
      term.adoptionsCheckedAtMs = now;
      await this.askAdoptions(term, live);
    }
    const votes = await coord.votes.votes([...live.keys()]);
    const switches = await this.options.store.resources.listSwitches();
    for (const sw of switches) {
      const was = term.inPool.get(sw.id) ?? true;
      const inPool = switchVerdict(votes.get(sw.id), live.size, was);
      if (inPool !== was)
        logger.warn(
          { switch: sw.name, inPool },
          inPool ? 'switch rejoins the pool' : 'switch leaves the pool',
        );
      term.inPool.set(sw.id, inPool);
      term.scheduler.switchStateChanged(sw.id, inPool && term.port.isSwitchUsable(sw.id));
    }
  }

  /** Open calls of workers that are not live go to the live worker with the most room. */
  private async askAdoptions(term: Term, live: ReadonlyMap<string, WorkerInfo>): Promise<void> {
    const orphaned = new Set<string>();
    for (const workerId of (await this.options.store.dispatch.openAttemptWorkers()).keys()) {
      if (!live.has(workerId)) orphaned.add(workerId);
    }
    for (const asked of term.adoptionsAsked) if (!orphaned.has(asked)) term.adoptionsAsked.delete(asked);
    for (const from of orphaned) {
      if (term.adoptionsAsked.has(from)) continue;
      let best: string | undefined;
      let room = -1;
      for (const [id, info] of live) {
        if (info.maxCalls - info.activeCalls > room) {
          best = id;
          room = info.maxCalls - info.activeCalls;
        }
      }
      if (!best) return;
      term.adoptionsAsked.add(from);
      this.options.logger.info({ from, to: best }, 'asking a worker to adopt the calls of a gone one');
      term.port.requestAdoption(best, from);
    }
  }

  private onEvents(term: Term, messages: unknown[]): void {
    const { scheduler, port } = term;
    for (const message of messages) {
      if (!isWorkerEvent(message)) continue;
      const event: WorkerEvent = message;
      switch (event.kind) {
        case 'ended':
          port.noteEnded(event.attemptId);
          scheduler.attemptEnded(event);
          break;
        case 'sent':
          scheduler.attemptSent(event.attemptId, event.atMs);
          break;
        case 'answered':
          scheduler.attemptAnswered(event.attemptId, { lineId: event.lineId, gatewayId: event.gatewayId });
          break;
        case 'moved':
          scheduler.tasksSubmitted(event.campaignId);
          break;
        case 'switch':
          port.noteSwitch(event.workerId, event.switchId, event.usable);
          scheduler.switchStateChanged(
            event.switchId,
            (term.inPool.get(event.switchId) ?? true) && port.isSwitchUsable(event.switchId),
          );
          break;
        case 'load':
          scheduler.switchLoadReported(event.switchId, event.load);
          break;
        case 'adopted':
          port.noteAdopted(event.workerId, event.attemptIds);
          break;
      }
    }
  }

  private async answer(term: Term, request: unknown): Promise<unknown> {
    if (!isRpcRequest(request)) return { error: 'bad_request' };
    const r: RpcRequest = request;
    switch (r.kind) {
      case 'dispatchStatus':
        return (await term.scheduler.dispatchStatus(r.tenantId, r.campaignId)) ?? null;
      case 'lineHealth':
        return (await term.scheduler.lineHealth(r.lineId)) ?? null;
      case 'lineOverride':
        await term.scheduler.setLineOverride(r.lineId, r.override);
        return { ok: true };
    }
  }
}
