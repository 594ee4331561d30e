import type { Logger } from 'pino';
import type { DialSlots, SlotDenial } from '../coord/contract.js';
import type { DialOrder, DialPort } from '../domain/dial-order.js';
import { uuidv7 } from '../domain/ids.js';
import type { Campaign } from '../domain/resources.js';
import type { PlatformMetrics } from '../observability/metrics.js';
import type { Claim, DueTask, Store } from '../store/contract.js';
import { candidateRoutes, type ResourceView, type Route } from './routing.js';
import { Wakeup } from './wakeup.js';

export interface SchedulerOptions {
  store: Store;
  slots: DialSlots;
  worker: DialPort;
  workerId: string;
  clock: () => number;
  logger: Logger;
  metrics: PlatformMetrics;
  /** Due tasks read from the store per campaign at a time. */
  queueBatch?: number;
  /** Added to ring timeout + max call duration for a lease's lifetime. */
  leaseGraceMs?: number;
  /** Longest sleep with nothing to do; bounds how late a maintenance sweep can be. */
  maxIdleWaitMs?: number;
}

/** Why a campaign is not dialing right now (the seed of "why isn't it dialing?"). */
export type HoldReason =
  | { kind: 'no_due_tasks'; nextDueAt: number | null }
  | { kind: 'no_usable_route' }
  | { kind: 'limit'; denial: SlotDenial };

interface Claimed {
  task: DueTask;
  campaign: Campaign;
  route: Route;
  attemptId: string;
  callerId: string | null;
}

/**
 * Scheduler v0 (R3.8): round robin across active campaigns, one task per campaign per pass so
 * that no campaign, however large, holds the others up; a task goes to a worker only once every
 * level it uses (campaign, line, gateway, switch) has granted pace and concurrency, and the store
 * has let us take it with its current version. Passes run back to back while there is progress,
 * and otherwise sleep until the earliest moment something can change: a pace window opening, a
 * task falling due, a call ending, new tasks, or a changed campaign.
 */
export class Scheduler {
  private campaigns: Campaign[] = [];
  private view: ResourceView = { lines: new Map(), gateways: new Map(), switches: new Map() };
  private readonly queues = new Map<string, DueTask[]>();
  private readonly routeCursor = new Map<string, number>();
  private readonly callerCursor = new Map<string, number>();
  private readonly holds = new Map<string, HoldReason>();
  private readonly wakeup = new Wakeup();
  private reloadCampaigns = true;
  private reloadResources = true;
  private roundRobin = 0;
  private lastSweepMs = 0;
  private running: Promise<void> | null = null;
  private stopping = false;
  private readonly queueBatch: number;
  private readonly leaseGraceMs: number;
  private readonly maxIdleWaitMs: number;

  constructor(private readonly options: SchedulerOptions) {
    this.queueBatch = options.queueBatch ?? 32;
    this.leaseGraceMs = options.leaseGraceMs ?? 60_000;
    this.maxIdleWaitMs = options.maxIdleWaitMs ?? 1_000;
  }

  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.loop().catch((error: unknown) => {
      this.options.logger.fatal({ err: error }, 'scheduler loop failed');
      throw error;
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeup.wake();
    await this.running;
    this.running = null;
  }

  tasksSubmitted(campaignId: string): void {
    this.queues.delete(campaignId); // re-read, so new higher-priority tasks go first
    this.wakeup.wake();
  }

  campaignChanged(_campaignId: string): void {
    this.reloadCampaigns = true;
    this.wakeup.wake();
  }

  resourcesChanged(): void {
    this.reloadResources = true;
    this.wakeup.wake();
  }

  /** A call ended (or was found gone): its slots are free again. */
  attemptEnded(attemptId: string, campaignId: string): void {
    this.options.slots.release(attemptId);
    this.queues.delete(campaignId); // a requeued task may be due again at once
    this.wakeup.wake();
  }

  /** Recovery: a call found live after a restart keeps its concurrency slots until it ends. */
  async adoptCall(attempt: {
    id: string;
    campaignId: string;
    lineId: string;
    gatewayId: string;
    switchId: string;
    tenantId: string;
  }): Promise<void> {
    await this.reload();
    const campaign = this.campaigns.find((c) => c.id === attempt.campaignId);
    const line = this.view.lines.get(attempt.lineId);
    const gateway = this.view.gateways.get(attempt.gatewayId);
    const sw = this.view.switches.get(attempt.switchId);
    const levels = [
      {
        key: `campaign:${attempt.campaignId}`,
        capsPerSecond: null,
        maxConcurrent: campaign?.maxConcurrent ?? null,
      },
      { key: `line:${attempt.lineId}`, capsPerSecond: null, maxConcurrent: line?.maxConcurrent ?? null },
      {
        key: `gateway:${attempt.gatewayId}`,
        capsPerSecond: null,
        maxConcurrent: gateway?.maxConcurrent ?? null,
      },
      { key: `switch:${attempt.switchId}`, capsPerSecond: null, maxConcurrent: sw?.maxSessions ?? null },
    ];
    const ttl =
      ((campaign?.ringTimeoutSec ?? 60) + (campaign?.maxCallDurationSec ?? 3600)) * 1000 + this.leaseGraceMs;
    this.options.slots.adopt(attempt.id, levels, this.options.clock(), ttl);
  }

  holdReasons(): ReadonlyMap<string, HoldReason> {
    return this.holds;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      await this.reload();
      const { progressed, wakeAtMs } = await this.pass();
      if (this.stopping) break;
      if (progressed) {
        await new Promise<void>((resolve) => setImmediate(resolve)); // let I/O in between passes
        continue;
      }
      const now = this.options.clock();
      await this.wakeup.wait(Math.min(this.maxIdleWaitMs, Math.max(1, wakeAtMs - now)));
    }
  }

  private async reload(): Promise<void> {
    const { store } = this.options;
    if (this.reloadResources) {
      this.reloadResources = false;
      const [lines, gateways, switches] = await Promise.all([
        store.resources.listLines(),
        store.resources.listGateways(),
        store.resources.listSwitches(),
      ]);
      this.view = {
        lines: new Map(lines.map((l) => [l.id, l])),
        gateways: new Map(gateways.map((g) => [g.id, g])),
        switches: new Map(switches.map((s) => [s.id, s])),
      };
    }
    if (this.reloadCampaigns) {
      this.reloadCampaigns = false;
      this.campaigns = await store.campaigns.listActive();
      const active = new Set(this.campaigns.map((c) => c.id));
      for (const id of [...this.queues.keys()]) if (!active.has(id)) this.queues.delete(id);
      for (const id of [...this.holds.keys()]) if (!active.has(id)) this.holds.delete(id);
    }
  }

  private async queueHead(campaign: Campaign, nowMs: number): Promise<DueTask | undefined> {
    let queue = this.queues.get(campaign.id);
    if (!queue || queue.length === 0) {
      queue = await this.options.store.dispatch.dueTasks(campaign.id, nowMs, this.queueBatch);
      this.queues.set(campaign.id, queue);
    }
    while (queue.length > 0 && queue[0]!.expiresAt !== null && queue[0]!.expiresAt <= nowMs) queue.shift();
    return queue[0];
  }

  private async pass(): Promise<{ progressed: boolean; wakeAtMs: number }> {
    const { clock, slots, worker, store, logger, metrics } = this.options;
    const now = clock();
    let wakeAtMs = now + this.maxIdleWaitMs;
    await this.sweep(now);

    const claimed: Claimed[] = [];
    const capacity = worker.spareCapacity();
    const count = this.campaigns.length;
    for (let i = 0; i < count && claimed.length < capacity; i++) {
      const campaign = this.campaigns[(this.roundRobin + i) % count]!;
      const task = await this.queueHead(campaign, now);
      if (!task) {
        const nextDueAt = await store.dispatch.nextDueAt(campaign.id);
        if (nextDueAt !== null && nextDueAt > now) wakeAtMs = Math.min(wakeAtMs, nextDueAt);
        this.holds.set(campaign.id, { kind: 'no_due_tasks', nextDueAt });
        continue;
      }
      const cursor = this.routeCursor.get(campaign.id) ?? 0;
      const routes = candidateRoutes(campaign, this.view, (id) => worker.isSwitchUsable(id), cursor);
      if (routes.length === 0) {
        this.holds.set(campaign.id, { kind: 'no_usable_route' });
        continue;
      }
      const attemptId = uuidv7(now);
      const ttl = (campaign.ringTimeoutSec + campaign.maxCallDurationSec) * 1000 + this.leaseGraceMs;
      let denial: SlotDenial | null = null;
      const route = routes.find((candidate) => {
        const result = slots.acquire(attemptId, candidate.levels, now, ttl);
        if (result.granted) return true;
        if (!denial || (result.denial.retryAtMs ?? Infinity) < (denial.retryAtMs ?? Infinity))
          denial = result.denial;
        metrics.slotDenials.inc({ reason: result.denial.reason, level: result.denial.key.split(':')[0]! });
        return false;
      });
      if (!route) {
        const held = denial as SlotDenial | null;
        if (held) {
          this.holds.set(campaign.id, { kind: 'limit', denial: held });
          if (held.retryAtMs !== null) wakeAtMs = Math.min(wakeAtMs, held.retryAtMs);
        }
        continue;
      }
      this.routeCursor.set(campaign.id, cursor + 1);
      this.holds.delete(campaign.id);
      this.queues.get(campaign.id)!.shift();
      claimed.push({ task, campaign, route, attemptId, callerId: this.pickCallerId(campaign, route) });
    }
    this.roundRobin = count === 0 ? 0 : (this.roundRobin + 1) % count;
    if (claimed.length === 0) return { progressed: false, wakeAtMs };

    const claims: Claim[] = claimed.map((c) => ({
      taskId: c.task.id,
      expectedVersion: c.task.version,
      attempt: {
        id: c.attemptId,
        taskId: c.task.id,
        campaignId: c.campaign.id,
        tenantId: c.campaign.tenantId,
        workerId: this.options.workerId,
        switchId: c.route.switch.id,
        gatewayId: c.route.gateway.id,
        lineId: c.route.line.id,
        callerId: c.callerId,
      },
    }));
    const won = await store.dispatch.claim(claims, now);
    claimed.forEach((c, index) => {
      if (!won[index]) {
        // A stale queue entry (cancelled, or taken elsewhere): harmless, give the slots back.
        slots.release(c.attemptId);
        logger.debug({ taskId: c.task.id }, 'stale queue entry skipped');
        return;
      }
      metrics.dispatched.inc();
      worker.dial(this.orderFor(c, now));
    });
    return { progressed: true, wakeAtMs };
  }

  private orderFor(c: Claimed, nowMs: number): DialOrder {
    return {
      attemptId: c.attemptId,
      taskId: c.task.id,
      tenantId: c.campaign.tenantId,
      campaign: {
        id: c.campaign.id,
        retryPolicy: c.campaign.retryPolicy,
        ringTimeoutSec: c.campaign.ringTimeoutSec,
        maxCallDurationSec: c.campaign.maxCallDurationSec,
      },
      line: {
        id: c.route.line.id,
        dialTemplate: c.route.line.dialTemplate,
        numberFormat: c.route.line.numberFormat,
      },
      gateway: { id: c.route.gateway.id, name: c.route.gateway.name },
      switchId: c.route.switch.id,
      callerId: c.callerId,
      numberSealed: c.task.numberSealed,
      numberMasked: c.task.numberMasked,
      variables: c.task.variables,
      taskAttemptCount: c.task.attemptCount,
      taskNotDialedCount: c.task.notDialedCount,
      taskExpiresAt: c.task.expiresAt,
      dispatchedAtMs: nowMs,
    };
  }

  private pickCallerId(campaign: Campaign, route: Route): string | null {
    const ids = route.line.callerIds;
    if (ids.length === 0) return campaign.callerId;
    const next = this.callerCursor.get(route.line.id) ?? 0;
    this.callerCursor.set(route.line.id, next + 1);
    return ids[next % ids.length]!;
  }

  /** Once a second: leases past their lifetime are freed (a lost hang-up), expired tasks leave the queue. */
  private async sweep(nowMs: number): Promise<void> {
    if (nowMs - this.lastSweepMs < 1_000) return;
    this.lastSweepMs = nowMs;
    const lost = this.options.slots.expire(nowMs);
    if (lost.length > 0)
      this.options.logger.warn({ attempts: lost }, 'call leases expired without a hang-up');
    const expired = await this.options.store.dispatch.expireDue(nowMs);
    if (expired > 0) this.options.logger.info({ expired }, 'tasks expired');
  }
}
