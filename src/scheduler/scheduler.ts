import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { DialSlots } from '../coord/contract.js';
import type { AttemptEnded, DialOrder, DialPort } from '../domain/dial-order.js';
import { uuidv7 } from '../domain/ids.js';
import type { Campaign, Gateway, Line } from '../domain/resources.js';
import type { PlatformMetrics, ResourceSample } from '../observability/metrics.js';
import {
  type Claim,
  type DueTask,
  FencedError,
  type FenceToken,
  type Store,
  type TenantProfile,
} from '../store/contract.js';
import type { QueuedTask } from './campaign-queue.js';
import type { CoreCampaign, CoreTenant, Dispatch, Hold, OverloadPolicy, SwitchLoad } from './core-types.js';
import { DispatchCore } from './dispatch-core.js';
import type { HealthOverride, HealthPolicy, HealthState } from './line-health.js';
import { Wakeup } from './wakeup.js';

export interface SchedulerOptions {
  store: Store;
  slots: DialSlots;
  worker: DialPort;
  workerId: string;
  clock: () => number;
  logger: Logger;
  metrics: PlatformMetrics;
  random?: () => number;
  /** Due tasks read from the store per campaign at a time (the core holds an index, not the backlog). */
  refillBatch?: number;
  /** Added to ring timeout + max call duration for a lease's lifetime. */
  leaseGraceMs?: number;
  /** Longest sleep with nothing to do; bounds how late a maintenance sweep can be. */
  maxIdleWaitMs?: number;
  warmupMs?: number;
  explorationShare?: number;
  overload?: OverloadPolicy;
  health?: HealthPolicy;
  /**
   * Cluster: the leadership token every claim carries, so that the store refuses the dispatches
   * of a deposed leader (null: not leader now — nothing is dispatched).
   */
  fence?: () => FenceToken | null;
  /** The store refused a claim under an older token: another scheduler leads now. */
  onFenced?: () => void;
  /**
   * How often the calls the core holds are checked against the store's open attempts (default
   * 2 s). A call the store shows ended on two checks running, while the core still holds its
   * slots, lost its `ended` word (a worker killed mid-report, a message bus restarted): its slots
   * are freed then, not at the end of its lease an hour later.
   */
  reconcileMs?: number;
  /** The loop died on an error (without this, the error is rethrown to the process). */
  onLoopFailed?: (error: unknown) => void;
}

/** The answer to "why isn't it dialing?" for one campaign. */
export interface DispatchStatus {
  campaignId: string;
  status: Campaign['status'];
  dialing: boolean;
  hold: Hold | null;
  inFlight: { campaign: number; tenant: number };
  queued: number;
  /** Calls this process's worker can still take; at 0 nothing is dispatched, whatever the campaign. */
  workerSpareCapacity: number;
}

/** A queued task as the core holds it: the store's view plus the route to avoid after a not_dialed. */
type SchedulerTask = DueTask & Pick<QueuedTask, 'avoid'>;

const LINE_STATE_VALUE: Record<HealthState, number> = { healthy: 0, probing: 1, ejected: 2 };

interface Refill {
  /** The store had no more due tasks than the core holds. */
  exhausted: boolean;
  /** When the campaign's next queued task falls due in the store (null: none queued for later). */
  nextDueAtMs: number | null;
}

/**
 * The loop around the dispatch core (ARCHITECTURE: scheduler/). It feeds the core from the store
 * (campaigns, resources, tenants' limits, and each campaign's queue head), asks it for decisions,
 * takes the chosen tasks with the store's optimistic lock, and hands them to the worker. It wakes
 * on new tasks, ended calls, changed switches and the core's own next wake time — never on a fixed
 * tick — and never hands the worker more than it can take.
 */
export class Scheduler {
  readonly core: DispatchCore<SchedulerTask>;
  private campaigns = new Map<string, Campaign>();
  private lines = new Map<string, Line>();
  private gateways = new Map<string, Gateway>();
  private switchNames = new Map<string, string>();
  private readonly refills = new Map<string, Refill>();
  /** Tasks whose last attempt was `not_dialed`, with the route it failed on (until re-read). */
  private readonly failedRoutes = new Map<string, { switchId: string; lineId: string; atMs: number }>();
  private readonly wakeup = new Wakeup();
  private reloadCampaigns = true;
  private reloadResources = true;
  private lastSweepMs = 0;
  private running: Promise<void> | null = null;
  private stopping = false;
  private readonly refillBatch: number;
  private readonly leaseGraceMs: number;
  private readonly maxIdleWaitMs: number;
  private readonly reconcileMs: number;
  private lastReconcileMs = 0;
  private reconciling: Promise<void> | null = null;
  /** Held attempts the store showed ended at the last reconciliation (freed if the next agrees). */
  private suspectedLost = new Set<string>();
  /** Attempts whose claim is being written: the store cannot show them open yet. */
  private readonly claiming = new Set<string>();

  constructor(private readonly options: SchedulerOptions) {
    this.refillBatch = options.refillBatch ?? 128;
    options.metrics.observeResources(() => this.resourceSamples());
    this.leaseGraceMs = options.leaseGraceMs ?? 60_000;
    this.maxIdleWaitMs = options.maxIdleWaitMs ?? 1_000;
    this.reconcileMs = options.reconcileMs ?? 2_000;
    const random = options.random ?? Math.random;
    this.core = new DispatchCore<SchedulerTask>({
      slots: options.slots,
      random,
      newAttemptId: (nowMs) => uuidv7(nowMs, randomBytes(10)),
      ...(options.warmupMs !== undefined ? { warmupMs: options.warmupMs } : {}),
      ...(options.explorationShare !== undefined ? { explorationShare: options.explorationShare } : {}),
      ...(options.overload ? { overload: options.overload } : {}),
      ...(options.health ? { health: options.health } : {}),
    });
  }

  /** Loads the world; called before recovery so adopted calls find their campaigns and lines. */
  async prepare(): Promise<void> {
    await this.reload();
    const now = this.options.clock();
    const today = now - (now % 86_400_000);
    for (const [tenantId, count] of await this.options.store.dispatch.attemptsSince(today)) {
      this.core.setDailyAttempts(tenantId, count, now);
    }
  }

  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.loop().catch((error: unknown) => {
      this.options.logger.fatal({ err: error }, 'scheduler loop failed');
      if (!this.options.onLoopFailed) throw error;
      this.options.onLoopFailed(error);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeup.wake();
    await this.running;
    this.running = null;
    await this.reconciling;
  }

  // ---- what the rest of the platform tells it ------------------------------------------------

  tasksSubmitted(campaignId: string): void {
    this.refills.set(campaignId, { exhausted: false, nextDueAtMs: null });
    this.wakeup.wake();
  }

  campaignChanged(_campaignId: string): void {
    this.reloadCampaigns = true;
    this.wakeup.wake();
  }

  /** Tenants' weights and limits are read again. */
  tenantsChanged(): void {
    this.reloadCampaigns = true;
    this.wakeup.wake();
  }

  resourcesChanged(): void {
    this.reloadResources = true;
    this.wakeup.wake();
  }

  /** A call ended (or was found gone): its slots are free, its outcome feeds line health. */
  attemptEnded(end: AttemptEnded): void {
    const now = this.options.clock();
    if (end.outcome === 'not_dialed') {
      this.failedRoutes.set(end.taskId, { switchId: end.switchId, lineId: end.lineId, atMs: now });
    }
    this.core.callEnded(end.attemptId, end.outcome, { lineId: end.lineId, gatewayId: end.gatewayId }, now);
    this.noteHealthChanges();
    this.wakeup.wake();
  }

  /** The callee answered: counted toward the line's answer rate now. */
  attemptAnswered(attemptId: string, route: { lineId: string; gatewayId: string }): void {
    this.core.callAnswered(attemptId, route, this.options.clock());
    this.noteHealthChanges();
  }

  /** The worker wrote the call's originate to its switch at `atMs`. */
  attemptSent(attemptId: string, atMs: number): void {
    this.core.markSent(attemptId, atMs);
  }

  switchStateChanged(switchId: string, usable: boolean): void {
    this.core.setSwitchState(switchId, usable, this.options.clock());
    this.wakeup.wake();
  }

  switchLoadReported(switchId: string, load: SwitchLoad): void {
    this.core.setSwitchLoad(switchId, load, this.options.clock());
    this.wakeup.wake();
  }

  /** Recovery: a call found open after a restart keeps its concurrency until it ends. */
  adoptCall(attempt: {
    id: string;
    campaignId: string;
    tenantId: string;
    lineId: string;
    gatewayId: string;
    switchId: string;
    callerId: string | null;
  }): void {
    const campaign = this.campaigns.get(attempt.campaignId);
    const ttl =
      ((campaign?.ringTimeoutSec ?? 60) + (campaign?.maxCallDurationSec ?? 3600)) * 1000 + this.leaseGraceMs;
    this.core.adopt(attempt.id, attempt, ttl, this.options.clock());
  }

  /** "Why isn't it dialing?" for a campaign of this tenant, or undefined if it has none such. */
  async dispatchStatus(tenantId: string, campaignId: string): Promise<DispatchStatus | undefined> {
    await this.reload();
    const campaign = await this.options.store.campaigns.get(tenantId, campaignId);
    if (!campaign) return undefined;
    const hold = campaign.status === 'active' ? this.core.hold(campaignId) : { kind: 'not_active' as const };
    return {
      campaignId,
      status: campaign.status,
      dialing: hold === null,
      hold,
      inFlight: {
        campaign: this.core.inFlight(`campaign:${campaignId}`),
        tenant: this.core.inFlight(`tenant:${tenantId}`),
      },
      queued: this.core.queueLength(campaignId),
      workerSpareCapacity: this.options.worker.spareCapacity(),
    };
  }

  async lineHealth(lineId: string) {
    await this.reload();
    return this.core.lineHealth(lineId, this.options.clock());
  }

  async setLineOverride(lineId: string, override: HealthOverride): Promise<void> {
    await this.reload();
    this.core.setLineOverride(lineId, override, this.options.clock());
    this.noteHealthChanges();
    this.wakeup.wake();
  }

  // ---- the loop -------------------------------------------------------------------------------

  /** One round: take in changes, sweep, top up queues, dispatch. Returns whether anything was dispatched. */
  async runOnce(): Promise<boolean> {
    await this.reload();
    const now = this.options.clock();
    await this.sweep(now);
    await this.refill(now);
    return this.dispatch(now);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const progressed = await this.runOnce();
      if (this.stopping) break;
      if (progressed || this.core.hasReadyWork()) {
        await new Promise<void>((resolve) => setImmediate(resolve)); // let I/O in between rounds
        continue;
      }
      const wakeAt = Math.min(this.core.nextWakeAtMs() ?? Number.POSITIVE_INFINITY, this.nextStoreDueAt());
      const after = this.options.clock();
      await this.wakeup.wait(Math.max(1, Math.min(this.maxIdleWaitMs, Math.ceil(wakeAt - after))));
    }
  }

  private async dispatch(nowMs: number): Promise<boolean> {
    const { worker, store, metrics, logger } = this.options;
    const fence = this.options.fence ? this.options.fence() : undefined;
    if (fence === null) return false;
    const budget = worker.spareCapacity();
    if (budget === 0) return false;
    const decided = this.core.decide(nowMs, budget);
    for (const d of decided.denied) metrics.slotDenials.inc({ reason: d.reason, level: d.level });
    const dispatches: Array<Dispatch<SchedulerTask> & { workerId: string }> = [];
    for (const d of decided.dispatches) {
      const workerId = worker.assignWorker
        ? worker.assignWorker(d.switchId, d.attemptId)
        : this.options.workerId;
      if (workerId === undefined) this.core.cancel(d.attemptId, nowMs);
      else dispatches.push({ ...d, workerId });
    }
    if (dispatches.length === 0) return false;
    const claims: Claim[] = dispatches.map((d) => ({
      taskId: d.task.id,
      expectedVersion: d.task.version,
      attempt: {
        id: d.attemptId,
        taskId: d.task.id,
        campaignId: d.campaignId,
        tenantId: d.tenantId,
        workerId: d.workerId,
        switchId: d.switchId,
        gatewayId: d.gatewayId,
        lineId: d.lineId,
        callerId: d.callerId,
      },
    }));
    let won: boolean[];
    for (const d of dispatches) this.claiming.add(d.attemptId);
    try {
      won = await store.dispatch.claim(claims, nowMs, fence);
    } catch (error) {
      // Nothing was taken: the slots go back. A newer leader exists, or the store failed.
      const now = this.options.clock();
      for (const d of dispatches) this.giveBack(d, now);
      if (error instanceof FencedError) {
        logger.warn('dispatch refused by the store: another scheduler leads now');
        this.options.onFenced?.();
        return false;
      }
      throw error;
    } finally {
      for (const d of dispatches) this.claiming.delete(d.attemptId);
    }
    const now = this.options.clock();
    dispatches.forEach((d, i) => {
      if (!won[i]) {
        // A stale queue entry (cancelled, or taken elsewhere): harmless, its slots go back.
        this.giveBack(d, now);
        logger.debug({ taskId: d.task.id }, 'stale queue entry skipped');
        return;
      }
      const order = this.orderFor(d, now);
      if (!order) {
        this.giveBack(d, now);
        return;
      }
      metrics.dispatched.inc();
      metrics.lineDispatched.inc({ line: this.lines.get(d.lineId)?.name ?? d.lineId });
      metrics.dispatchDelayMs.observe(Math.max(0, now - d.task.notBefore));
      worker.dial(order, d.workerId);
    });
    return true;
  }

  /** A decided dispatch that will not go out after all: its slots and its worker's room come back. */
  private giveBack(d: { attemptId: string; workerId: string }, nowMs: number): void {
    this.core.cancel(d.attemptId, nowMs);
    this.options.worker.assignmentDropped?.(d.attemptId);
  }

  private orderFor(d: Dispatch<SchedulerTask>, nowMs: number): DialOrder | null {
    const campaign = this.campaigns.get(d.campaignId);
    const line = this.lines.get(d.lineId);
    const gateway = this.gateways.get(d.gatewayId);
    if (!campaign || !line || !gateway) return null;
    return {
      attemptId: d.attemptId,
      taskId: d.task.id,
      tenantId: d.tenantId,
      campaign: {
        id: campaign.id,
        retryPolicy: campaign.retryPolicy,
        ringTimeoutSec: campaign.ringTimeoutSec,
        maxCallDurationSec: campaign.maxCallDurationSec,
      },
      line: { id: line.id, dialTemplate: line.dialTemplate, numberFormat: line.numberFormat },
      gateway: { id: gateway.id, name: gateway.name },
      switchId: d.switchId,
      callerId: d.callerId,
      numberSealed: d.task.numberSealed,
      numberMasked: d.task.numberMasked,
      variables: d.task.variables,
      taskAttemptCount: d.task.attemptCount,
      taskNotDialedCount: d.task.notDialedCount,
      taskExpiresAt: d.task.expiresAt,
      dispatchedAtMs: nowMs,
    };
  }

  /**
   * Tops up each campaign's queue in the core from the store: tasks due now, best first, when the
   * core runs low, and again when the store's next task falls due. Only due tasks are read (and
   * the core holds few), so a refill reads a bounded number of rows however large the backlog or
   * however many retries wait for later; the loop wakes exactly when the next one falls due.
   */
  private async refill(nowMs: number): Promise<void> {
    const { dispatch } = this.options.store;
    for (const campaignId of this.campaigns.keys()) {
      const state = this.refills.get(campaignId) ?? { exhausted: false, nextDueAtMs: null };
      const fallenDue = state.nextDueAtMs !== null && state.nextDueAtMs <= nowMs;
      if ((state.exhausted && !fallenDue) || this.core.readyLength(campaignId) >= this.refillBatch / 4)
        continue;
      const held = this.core.queueLength(campaignId);
      const due = await dispatch.dueTasks(campaignId, nowMs, held + this.refillBatch);
      for (const task of due) {
        if (this.core.isQueued(campaignId, task.id)) continue;
        const failed = this.failedRoutes.get(task.id);
        if (failed) this.failedRoutes.delete(task.id);
        this.core.enqueue(
          campaignId,
          failed ? { ...task, avoid: { switchId: failed.switchId, lineId: failed.lineId } } : task,
          nowMs,
        );
      }
      const exhausted = due.length < held + this.refillBatch;
      const nextDueAtMs = exhausted ? await dispatch.nextDueAt(campaignId, nowMs) : null;
      this.refills.set(campaignId, { exhausted, nextDueAtMs });
    }
  }

  private nextStoreDueAt(): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const state of this.refills.values()) {
      if (state.nextDueAtMs !== null && state.nextDueAtMs < earliest) earliest = state.nextDueAtMs;
    }
    return earliest;
  }

  private async reload(): Promise<void> {
    const { store, clock } = this.options;
    const now = clock();
    if (this.reloadResources) {
      this.reloadResources = false;
      const [lines, gateways, switches] = await Promise.all([
        store.resources.listLines(),
        store.resources.listGateways(),
        store.resources.listSwitches(),
      ]);
      this.lines = new Map(lines.map((l) => [l.id, l]));
      this.gateways = new Map(gateways.map((g) => [g.id, g]));
      this.switchNames = new Map(switches.map((s) => [s.id, s.name]));
      this.core.setResources(
        {
          lines: lines.map((l) => ({
            id: l.id,
            gatewayId: l.gatewayId,
            tenantId: l.tenantId,
            enabled: l.enabled,
            caps: l.caps,
            maxConcurrent: l.maxConcurrent,
            weight: l.weight,
            callerIds: l.callerIds,
            callerIdCaps: l.callerIdCaps,
            callerIdMaxConcurrent: l.callerIdMaxConcurrent,
          })),
          gateways: gateways.map((g) => ({
            id: g.id,
            switchIds: g.switchIds,
            enabled: g.enabled,
            maxCaps: g.maxCaps,
            maxConcurrent: g.maxConcurrent,
          })),
          switches: switches.map((s) => ({
            id: s.id,
            enabled: s.enabled,
            maxCaps: s.maxCaps,
            maxSessions: s.maxSessions,
          })),
        },
        now,
      );
      for (const line of lines)
        if (line.healthOverride) this.core.setLineOverride(line.id, line.healthOverride, now);
    }
    if (this.reloadCampaigns) {
      this.reloadCampaigns = false;
      for (const profile of await store.tenantProfiles.list()) this.core.setTenant(this.tenantFor(profile));
      const active = await store.campaigns.listActive();
      const next = new Map(active.map((c) => [c.id, c]));
      for (const id of this.campaigns.keys()) {
        if (!next.has(id)) {
          this.core.removeCampaign(id);
          this.refills.delete(id);
        }
      }
      for (const campaign of active) {
        if (!this.campaigns.has(campaign.id))
          this.refills.set(campaign.id, { exhausted: false, nextDueAtMs: null });
        this.core.setCampaign(this.coreCampaign(campaign), now);
      }
      this.campaigns = next;
    }
  }

  private tenantFor(profile: TenantProfile): CoreTenant {
    return {
      id: profile.id,
      weight: profile.weight,
      maxCaps: profile.limits.maxCaps,
      maxConcurrent: profile.limits.maxConcurrent,
      maxDailyAttempts: profile.limits.maxDailyAttempts,
    };
  }

  private coreCampaign(campaign: Campaign): CoreCampaign {
    return {
      id: campaign.id,
      tenantId: campaign.tenantId,
      weight: campaign.weight,
      lineIds: campaign.lineIds,
      caps: campaign.caps,
      maxConcurrent: campaign.maxConcurrent,
      schedule: campaign.schedule,
      strategy: campaign.selectionStrategy,
      callerId: campaign.callerId,
      leaseTtlMs: (campaign.ringTimeoutSec + campaign.maxCallDurationSec) * 1000 + this.leaseGraceMs,
    };
  }

  /**
   * The core's in-flight calls against the store's open attempts, the truth of what is still up.
   * Runs beside the loop (its read never delays a dispatch). An attempt being claimed is left out
   * (the store cannot show it yet), and one is freed only when two reads running miss it, so a
   * claim that commits while a read is under way is never taken for a lost call. The loop runs it
   * every `reconcileMs`.
   */
  async reconcile(): Promise<void> {
    const held = [...this.core.heldAttempts()].filter((id) => !this.claiming.has(id));
    if (held.length === 0 && this.suspectedLost.size === 0) return;
    const open = await this.options.store.dispatch.openAttemptIds();
    const suspected = new Set<string>();
    const lost: string[] = [];
    for (const id of held) {
      if (open.has(id) || !this.core.holds(id)) continue;
      if (this.suspectedLost.has(id)) lost.push(id);
      else suspected.add(id);
    }
    this.suspectedLost = suspected;
    const now = this.options.clock();
    for (const id of lost) this.core.callEnded(id, null, null, now);
    this.options.worker.reconcile?.(open, lost);
    if (lost.length > 0) {
      this.options.logger.warn(
        { calls: lost.length, attempts: lost.slice(0, 20) },
        'calls ended in the store without word to the scheduler; their slots are freed',
      );
      this.wakeup.wake();
    }
  }

  /** Once a second: leases past their lifetime are freed (a lost hang-up), health ticks, expired tasks leave. */
  private async sweep(nowMs: number): Promise<void> {
    if (nowMs - this.lastSweepMs < 1_000) return;
    this.lastSweepMs = nowMs;
    if (nowMs - this.lastReconcileMs >= this.reconcileMs && !this.reconciling) {
      this.lastReconcileMs = nowMs;
      this.reconciling = this.reconcile()
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error }, 'reconciling in-flight calls failed'),
        )
        .finally(() => {
          this.reconciling = null;
        });
    }
    const lost = this.core.expireLeases(nowMs);
    if (lost.length > 0)
      this.options.logger.warn({ attempts: lost }, 'call leases expired without a hang-up');
    this.core.tickHealth(nowMs);
    // A task cancelled after a not_dialed is never read again: its fail-over hint must not stay.
    for (const [taskId, failed] of this.failedRoutes)
      if (nowMs - failed.atMs > 60_000) this.failedRoutes.delete(taskId);
    this.noteHealthChanges();
    const expired = await this.options.store.dispatch.expireDue(nowMs);
    if (expired > 0) this.options.logger.info({ expired }, 'tasks expired');
    this.options.metrics.observeQueues(
      [...this.campaigns.keys()].map((id) => ({ campaignId: id, queued: this.core.queueLength(id) })),
    );
  }

  /** Live per-resource numbers for /metrics, read when scraped. */
  private resourceSamples(): ResourceSample[] {
    const now = this.options.clock();
    const samples: ResourceSample[] = [];
    for (const line of this.lines.values()) {
      const health = this.core.lineHealth(line.id, now);
      samples.push({
        level: 'line',
        resource: line.name,
        inFlight: this.core.inFlight(`line:${line.id}`),
        ...(health?.stats.answerRate !== undefined ? { answerRate: health.stats.answerRate } : {}),
      });
    }
    for (const gateway of this.gateways.values()) {
      samples.push({
        level: 'gateway',
        resource: gateway.name,
        inFlight: this.core.inFlight(`gateway:${gateway.id}`),
      });
    }
    for (const [switchId, name] of this.switchNames) {
      samples.push({
        level: 'switch',
        resource: name,
        inFlight: this.core.inFlight(`switch:${switchId}`),
      });
    }
    for (const campaign of this.campaigns.values()) {
      samples.push({
        level: 'campaign',
        resource: campaign.id,
        inFlight: this.core.inFlight(`campaign:${campaign.id}`),
      });
    }
    return samples;
  }

  private noteHealthChanges(): void {
    for (const change of this.core.drainHealthChanges()) {
      const line = this.lines.get(change.lineId);
      this.options.logger.warn(
        { line: line?.name ?? change.lineId, ...change },
        `line ${change.from} → ${change.to}`,
      );
      this.options.metrics.lineState.set({ line: line?.name ?? change.lineId }, LINE_STATE_VALUE[change.to]);
    }
  }
}
