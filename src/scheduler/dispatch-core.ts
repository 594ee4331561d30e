import type { DialSlots, SlotLevel } from '../coord/contract.js';
import type { Outcome } from '../domain/outcome.js';
import { isWithinSchedule, nextOpeningMs } from './calling-window.js';
import { CampaignQueue, type QueuedTask } from './campaign-queue.js';
import type { CampaignState, Lease, TenantState } from './core-state.js';
import {
  type CoreCampaign,
  type CoreGateway,
  type CoreLine,
  type CoreSwitch,
  type CoreTenant,
  DEFAULT_OVERLOAD_POLICY,
  type Dispatch,
  type Hold,
  type LimitDenial,
  type OverloadPolicy,
  type SwitchLoad,
} from './core-types.js';
import { LowestPass } from './fair-order.js';
import { MinHeap } from './heap.js';
import { LimitChecks, utcDayStart } from './limit-checks.js';
import {
  DEFAULT_HEALTH_POLICY,
  type HealthChange,
  type HealthOverride,
  type HealthPolicy,
  type LineHealth,
} from './line-health.js';
import { byPass, FAR_FUTURE, Parking } from './parking.js';
import { closedGateOf, type Route } from './route-groups.js';
import { orderRoutes } from './route-selection.js';
import { Routing } from './routing.js';

export interface DispatchCoreOptions {
  slots: DialSlots;
  random: () => number;
  newAttemptId: (nowMs: number) => string;
  /** Share of answer-rate-first decisions that explore in random order. */
  explorationShare?: number;
  /** A switch or line that (re)joins ramps from 10 % to its full CAPS over this long (slow start). */
  warmupMs?: number;
  overload?: OverloadPolicy;
  health?: HealthPolicy;
  /** Prior answer rate for a line with no history, and its weight in pseudo-attempts. */
  answerRatePrior?: { rate: number; weight: number };
}

/** A task whose last attempt failed on a switch or line tries the others first (fail-over). */
function avoidingFailedRoute<R extends Route>(routes: R[], avoid: QueuedTask['avoid']): R[] {
  if (!avoid) return routes;
  const fresh = routes.filter((r) => r.switchId !== avoid.switchId && r.lineId !== avoid.lineId);
  const partly = routes.filter((r) => (r.switchId !== avoid.switchId) !== (r.lineId !== avoid.lineId));
  const same = routes.filter((r) => r.switchId === avoid.switchId && r.lineId === avoid.lineId);
  return [...fresh, ...partly, ...same];
}

function ownLevel(key: string, caps: number | null, maxConcurrent: number | null): SlotLevel {
  return { key, capsPerSecond: caps, maxConcurrent };
}

/**
 * The scheduler's pure decision core (R3.4, R3.5, R3.8, R3.10). Given tasks, resources and the
 * live state of switches, `decide()` hands out fully resourced calls:
 *
 * - **Fair**: weighted fair queuing by stride — tenants by weight, then a tenant's campaigns by
 *   weight; each serve advances the served entity's pass by 1/weight and the lowest pass goes next.
 *   Only a return from idle moves a pass forward, to the lowest pass still competing.
 * - **Blocked campaigns cost nothing**: a campaign that cannot dial is parked until the moment that
 *   can change it — a task falling due, its calling window opening, its own pace — or waits in its
 *   route group (the campaigns sharing its lines). A group that finds every route closed stays
 *   closed until the earliest learned opening or a call ending on one of its keys, and then wakes
 *   **one** waiter, the one fair queuing serves first; the next is woken only once that one has
 *   been decided and the group may still have room. A tenant whose own CAPS or concurrency is
 *   closed is passed over in every group until it opens.
 * - **Exact limits**: every level (campaign, tenant, line, gateway, switch, caller id) through
 *   `DialSlots`, all or nothing; what the core remembers of closed limits only decides what to skip.
 * - **Healthy resources**: lines are admitted by their health state machine (probing lines run at
 *   a share of their CAPS), overloaded or unreachable switches are skipped, and a switch or line
 *   that (re)joins ramps up over the warm-up period.
 *
 * Time and randomness come in as arguments; nothing here reads a clock.
 */
export class DispatchCore<T extends QueuedTask = QueuedTask> {
  private readonly tenants = new Map<string, TenantState<T>>();
  private readonly campaigns = new Map<string, CampaignState<T>>();
  private readonly leases = new Map<string, Lease>();
  private readonly routing: Routing;
  private readonly parking: Parking<T>;
  private readonly limits: LimitChecks;
  /** Calls whose answer was already counted when it happened (not again when they end). */
  private readonly answerCounted = new Set<string>();
  private readonly explorationShare: number;
  /** Decision rounds (`decide` calls): what is learned of a ramping limit holds for one. */
  private round = 0;
  private readonly openRoutes: Route[] = [];
  /** Health changes since the last `drainHealthChanges()`, for logs, metrics and the API. */
  private healthChanges: Array<HealthChange & { lineId: string }> = [];

  constructor(private readonly options: DispatchCoreOptions) {
    this.explorationShare = options.explorationShare ?? 0.1;
    this.routing = new Routing({
      warmupMs: options.warmupMs ?? 30_000,
      overload: options.overload ?? DEFAULT_OVERLOAD_POLICY,
      health: options.health ?? DEFAULT_HEALTH_POLICY,
      prior: options.answerRatePrior ?? { rate: 0.3, weight: 20 },
    });
    this.limits = new LimitChecks(options.slots, this.routing);
    const limits = this.limits;
    this.parking = new Parking(this.campaigns, this.tenants, this.routing, (tenant, nowMs) =>
      limits.refusal(tenant.level, nowMs),
    );
  }

  // ---- the world, as the loop tells it ----------------------------------------------------------

  setResources(
    resources: { lines: CoreLine[]; gateways: CoreGateway[]; switches: CoreSwitch[] },
    nowMs: number,
  ): void {
    this.routing.setResources(resources, nowMs);
    for (const tenant of this.tenants.values()) tenant.queues.clear();
    for (const state of this.campaigns.values()) {
      state.group = this.routing.groupFor(state.campaign.lineIds, state.campaign.tenantId);
      if (state.waitingIn) state.waitingIn = null;
    }
    this.parking.wakeAll(nowMs);
  }

  /** Adds or updates a tenant; its campaigns keep their queues. */
  setTenant(tenant: CoreTenant): void {
    const state = this.tenants.get(tenant.id);
    const level = ownLevel(`tenant:${tenant.id}`, tenant.maxCaps, tenant.maxConcurrent);
    if (state) {
      state.tenant = tenant;
      state.level = level;
      // Its limits may have changed: let its campaigns find out.
      this.parking.unblockLater(state);
      this.parking.releaseUnblocked(Number.NEGATIVE_INFINITY);
      return;
    }
    this.tenants.set(tenant.id, {
      id: tenant.id,
      tenant,
      level,
      dailyAttempts: 0,
      dayStartMs: 0,
      pass: 0,
      virtualTime: 0,
      ready: new MinHeap<CampaignState<T>>(byPass),
      inHeap: false,
      campaigns: new Set(),
      competing: new LowestPass<CampaignState<T>>(),
      blocked: false,
      blockedUntilMs: Number.NEGATIVE_INFINITY,
      blockGeneration: 0,
      queues: new Map(),
    });
  }

  /** Seeds a tenant's attempts so far today (from the store, at start). */
  setDailyAttempts(tenantId: string, count: number, nowMs: number): void {
    const state = this.tenants.get(tenantId);
    if (!state) return;
    state.dayStartMs = utcDayStart(nowMs);
    state.dailyAttempts = count;
  }

  /** Adds an active campaign or updates one; a campaign that is no longer active is removed. */
  setCampaign(campaign: CoreCampaign, nowMs: number): void {
    if (!this.tenants.has(campaign.tenantId)) {
      this.setTenant({
        id: campaign.tenantId,
        weight: 1,
        maxCaps: null,
        maxConcurrent: null,
        maxDailyAttempts: null,
      });
    }
    const existing = this.campaigns.get(campaign.id);
    if (existing && existing.campaign.tenantId !== campaign.tenantId) this.removeCampaign(campaign.id);
    const level = ownLevel(`campaign:${campaign.id}`, campaign.caps, campaign.maxConcurrent);
    const group = this.routing.groupFor(campaign.lineIds, campaign.tenantId);
    const current = this.campaigns.get(campaign.id);
    if (current) {
      current.campaign = campaign;
      current.level = level;
      current.group = group;
      this.parking.wake(current, nowMs, null);
      return;
    }
    const tenant = this.tenants.get(campaign.tenantId)!;
    const state: CampaignState<T> = {
      id: campaign.id,
      campaign,
      tenant,
      level,
      queue: new CampaignQueue<T>(),
      pass: 0,
      cursor: 0,
      callerCursor: 0,
      ready: false,
      competing: false,
      parkGeneration: 0,
      hold: null,
      group,
      waitingIn: null,
      wokenFrom: null,
    };
    this.campaigns.set(campaign.id, state);
    tenant.campaigns.add(state);
    this.parking.wake(state, nowMs, null);
  }

  removeCampaign(campaignId: string): void {
    const state = this.campaigns.get(campaignId);
    if (!state) return;
    this.campaigns.delete(campaignId);
    const { tenant } = state;
    tenant.campaigns.delete(state);
    if (state.ready) tenant.ready.removeWhere((c) => c === state);
    this.parking.leaveGroup(state);
    this.parking.setCompeting(state, false);
    state.ready = false;
    state.parkGeneration++;
    const from = state.wokenFrom;
    state.wokenFrom = null;
    if (from) {
      from.pending--;
      this.parking.mayWake(from);
    }
  }

  hasCampaign(campaignId: string): boolean {
    return this.campaigns.has(campaignId);
  }

  enqueue(campaignId: string, task: T, nowMs: number): void {
    const state = this.campaigns.get(campaignId);
    if (!state) return;
    state.queue.add(task, nowMs);
    if (!state.ready && state.hold?.kind === 'no_due_tasks') this.parking.wake(state, nowMs, null);
  }

  queueLength(campaignId: string): number {
    return this.campaigns.get(campaignId)?.queue.size ?? 0;
  }

  readyLength(campaignId: string): number {
    return this.campaigns.get(campaignId)?.queue.readyCount() ?? 0;
  }

  /** Whether a task is still in the core's queue (so the loop does not add it twice). */
  isQueued(campaignId: string, taskId: string): boolean {
    return this.campaigns.get(campaignId)?.queue.has(taskId) ?? false;
  }

  setSwitchState(switchId: string, usable: boolean, nowMs: number): void {
    if (this.routing.setSwitchState(switchId, usable, nowMs)) this.parking.reopenRoutes(nowMs);
  }

  setSwitchLoad(switchId: string, load: SwitchLoad, nowMs: number): void {
    if (this.routing.setSwitchLoad(switchId, load, nowMs)) this.parking.reopenRoutes(nowMs);
  }

  setLineOverride(lineId: string, override: HealthOverride, nowMs: number): HealthChange | null {
    const change = this.routing.setOverride(lineId, override, nowMs);
    if (change === undefined) return null;
    if (change) this.noteHealthChange(lineId, change, nowMs);
    else this.parking.reopenRoutes(nowMs);
    return change;
  }

  // ---- decisions ----------------------------------------------------------------------------------

  /**
   * Up to `budget` dispatches at `nowMs`, fairly across tenants and campaigns. Tasks whose expiry
   * passed are dropped from the queue and returned in `expired` for the loop to record; `denied`
   * holds each refusal by a limit met in this call (a route skipped because its limit is known to
   * be closed is not asked again, so not counted again).
   */
  decide(nowMs: number, budget: number): { dispatches: Dispatch<T>[]; expired: T[]; denied: LimitDenial[] } {
    this.round++;
    this.parking.runTimers(nowMs);
    this.parking.wakeGroups(nowMs);
    const dispatches: Dispatch<T>[] = [];
    const expired: T[] = [];
    const denied: LimitDenial[] = [];
    while (dispatches.length < budget) {
      const tenant = this.parking.readyTenants.peek();
      if (!tenant) break;
      const campaign = tenant.ready.peek();
      if (!campaign) {
        this.parking.readyTenants.pop();
        tenant.inHeap = false;
        continue;
      }
      const from = campaign.wokenFrom;
      campaign.wokenFrom = null;
      if (from) from.pending--;
      const dispatch = this.tryDispatch(campaign, nowMs, expired, denied);
      tenant.ready.pop();
      if (dispatch) {
        dispatches.push(dispatch);
        tenant.virtualTime = Math.max(tenant.virtualTime, campaign.pass);
        campaign.pass += 1 / Math.max(campaign.campaign.weight, 1e-9);
        tenant.ready.push(campaign);
        this.parking.readyTenants.pop();
        tenant.pass += 1 / Math.max(tenant.tenant.weight, 1e-9);
        this.parking.readyTenants.push(tenant);
        // Its own limits closed by this call: pass over its waiting campaigns from now on.
        const closed = this.limits.refusal(tenant.level, nowMs);
        if (closed) this.parking.blockTenant(tenant, closed);
      } else if (tenant.ready.size === 0) {
        this.parking.readyTenants.pop();
        tenant.inHeap = false;
      }
      this.parking.releaseUnblocked(nowMs);
      // The group's opening was used or passed on: it may have room for the next waiter.
      if (from) this.parking.mayWake(from);
      this.parking.wakeGroups(nowMs);
    }
    return { dispatches, expired, denied };
  }

  /** The earliest time a parked campaign may become able to dial (for the loop's sleep). */
  nextWakeAtMs(): number | null {
    return this.parking.nextWakeAtMs();
  }

  hasReadyWork(): boolean {
    return this.parking.hasWork();
  }

  /** The dispatch's originate was written to its switch at `atMs` (pace is counted in send time). */
  markSent(attemptId: string, atMs: number): void {
    this.options.slots.markSent(attemptId, atMs);
    const lease = this.leases.get(attemptId);
    if (lease) this.reviewPaceAfterSend(lease, atMs);
  }

  /**
   * A grant's place in the pace log moves when its send is reported: later (written late) or,
   * where the slots count an unreported grant at its latest possible send time (cluster), earlier.
   * Earlier can reopen a limit sooner than the core learned, so those keys are read again and
   * whatever waits on them is woken at the new time; later needs nothing (a try finds it out).
   */
  private reviewPaceAfterSend(lease: Lease, nowMs: number): void {
    for (const level of lease.levels) {
      const caps = level.capsPerSecond;
      if (caps === null) continue;
      const gate = this.routing.gateOf(level.key);
      if (gate) {
        if (gate.denial?.reason !== 'caps' || !(gate.closedUntilMs > nowMs)) continue;
        const allowedAt = this.options.slots.paceAllowedAt(level.key, caps, nowMs);
        if (allowedAt >= gate.closedUntilMs) continue;
        if (allowedAt <= nowMs) gate.forget();
        else gate.closedUntilMs = allowedAt;
        for (const group of gate.groups) this.parking.openAtMs(group, allowedAt);
        continue;
      }
      const tenant = this.tenants.get(lease.tenantId);
      if (tenant?.level.key === level.key) {
        // Checked again; if still closed, blocked anew until its (possibly earlier) reopening.
        if (tenant.blocked && tenant.blockedUntilMs > nowMs) {
          this.parking.unblockLater(tenant);
          this.parking.releaseUnblocked(nowMs);
        }
        continue;
      }
      const campaign = this.campaigns.get(lease.campaignId);
      const hold = campaign?.hold;
      if (campaign && !campaign.ready && hold?.kind === 'limits' && hold.denials[0]?.key === level.key) {
        const retryAtMs = hold.denials[0].retryAtMs;
        const allowedAt = this.options.slots.paceAllowedAt(level.key, caps, nowMs);
        if (retryAtMs !== null && allowedAt < retryAtMs) this.parking.wakeAtMs(campaign, allowedAt);
      }
    }
  }

  /** A dispatch was not used (its claim lost): its slots go back. */
  cancel(attemptId: string, nowMs: number): void {
    this.releaseLease(attemptId, nowMs);
  }

  /**
   * A call was answered. Counted now, not when it ends: answered calls are the longest, so
   * counting at the end would show a line's failures minutes before its answers and make a
   * healthy line look dead at start-up.
   */
  callAnswered(attemptId: string, route: { lineId: string; gatewayId: string }, nowMs: number): void {
    if (this.answerCounted.has(attemptId)) return;
    this.answerCounted.add(attemptId);
    this.settle(this.leases.get(attemptId));
    this.recordOutcome('answered', route, nowMs);
  }

  /** A call ended: its slots are freed and its outcome feeds answer rates and line health. */
  callEnded(
    attemptId: string,
    outcome: Outcome | null,
    route: { lineId: string; gatewayId: string } | null,
    nowMs: number,
  ): void {
    this.releaseLease(attemptId, nowMs);
    if (this.answerCounted.delete(attemptId)) return;
    if (!outcome || !route) return;
    this.recordOutcome(outcome, route, nowMs);
  }

  private recordOutcome(outcome: Outcome, route: { lineId: string; gatewayId: string }, nowMs: number): void {
    const change = this.routing.recordOutcome(outcome, route, nowMs);
    if (change) this.noteHealthChange(route.lineId, change, nowMs);
  }

  /** Re-holds the concurrency of a call found live after a restart (recovery). */
  adopt(
    attemptId: string,
    at: {
      campaignId: string;
      tenantId: string;
      lineId: string;
      gatewayId: string;
      switchId: string;
      callerId: string | null;
    },
    ttlMs: number,
    nowMs: number,
  ): void {
    const campaign = this.campaigns.get(at.campaignId)?.campaign;
    const tenant = this.tenants.get(at.tenantId)?.tenant;
    const line = this.routing.lineById(at.lineId);
    const levels: SlotLevel[] = [
      ownLevel(`campaign:${at.campaignId}`, null, campaign?.maxConcurrent ?? null),
      ownLevel(`tenant:${at.tenantId}`, null, tenant?.maxConcurrent ?? null),
      ...this.routing
        .levelsById(at.lineId, at.gatewayId, at.switchId, nowMs)
        .map((level) => ({ ...level, capsPerSecond: null })),
    ];
    if (at.callerId && line && (line.callerIdCaps !== null || line.callerIdMaxConcurrent !== null)) {
      levels.push(ownLevel(`callerid:${line.id}:${at.callerId}`, null, line.callerIdMaxConcurrent));
    }
    this.options.slots.adopt(attemptId, levels, nowMs, ttlMs);
    // A call found live after a restart may have been answered long ago: it tells health nothing.
    this.leases.set(attemptId, {
      keys: levels.map((l) => l.key),
      levels,
      campaignId: at.campaignId,
      tenantId: at.tenantId,
      lineId: at.lineId,
      settled: true,
    });
  }

  /** The attempts whose calls hold slots now (granted, sent or adopted, and not ended). */
  heldAttempts(): IterableIterator<string> {
    return this.leases.keys();
  }

  holds(attemptId: string): boolean {
    return this.leases.has(attemptId);
  }

  /** Leases past their lifetime (lost hang-ups) are freed; returns their attempt ids. */
  expireLeases(nowMs: number): string[] {
    const expired = this.options.slots.expire(nowMs);
    for (const id of expired) {
      const lease = this.leases.get(id);
      this.leases.delete(id);
      this.settle(lease);
      if (lease) this.parking.onReleased(lease, nowMs);
    }
    return expired;
  }

  /** Time-driven health transitions (ejected → probing). */
  tickHealth(nowMs: number): void {
    for (const [lineId, health] of this.routing.health) {
      const change = health.tick(nowMs);
      if (change) this.noteHealthChange(lineId, change, nowMs);
    }
  }

  drainHealthChanges(): Array<HealthChange & { lineId: string }> {
    const changes = this.healthChanges;
    this.healthChanges = [];
    return changes;
  }

  // ---- explanations and views ---------------------------------------------------------------

  hold(campaignId: string): Hold | null {
    const state = this.campaigns.get(campaignId);
    if (!state) return { kind: 'not_active' };
    if (state.ready) return null;
    // A campaign waiting in its closed group is held by whatever closed the group last (its own
    // last try may be older), unless its tenant's own limits hold it.
    const group = state.waitingIn?.group;
    if (group && !group.open && group.hold && !state.tenant.blocked) return group.hold;
    return state.hold;
  }

  lineHealth(
    lineId: string,
    nowMs: number,
  ):
    | (ReturnType<LineHealth['admission']> & {
        stats: ReturnType<LineHealth['stats']>;
        override: HealthOverride;
      })
    | null {
    const health = this.routing.health.get(lineId);
    if (!health) return null;
    return { ...health.admission(nowMs), stats: health.stats(nowMs), override: health.override };
  }

  inFlight(key: string): number {
    return this.options.slots.inFlight(key);
  }

  // ---- one decision ---------------------------------------------------------------------------

  private tryDispatch(
    state: CampaignState<T>,
    nowMs: number,
    expired: T[],
    denied: LimitDenial[],
  ): Dispatch<T> | null {
    const { campaign, tenant } = state;
    if (campaign.schedule && !isWithinSchedule(campaign.schedule, nowMs)) {
      const opening = nextOpeningMs(campaign.schedule, nowMs);
      this.parking.parkIdle(
        state,
        { kind: 'outside_window', nextOpeningAtMs: opening },
        opening ?? FAR_FUTURE,
      );
      return null;
    }
    const task = state.queue.head(nowMs, expired);
    if (!task) {
      const next = state.queue.nextDueAtMs();
      this.parking.parkIdle(
        state,
        { kind: 'no_due_tasks', queued: state.queue.size, nextDueAtMs: next },
        next ?? FAR_FUTURE,
      );
      return null;
    }
    const daily = this.limits.dailyRefusal(tenant, nowMs);
    if (daily) {
      this.parking.parkIdle(state, { kind: 'limits', denials: [daily] }, daily.retryAtMs!);
      return null;
    }
    // The campaign's and the tenant's own limits apply to every route alike: checked once.
    const own = this.limits.refusal(state.level, nowMs) ?? this.limits.refusal(tenant.level, nowMs);
    if (own) {
      denied.push(own);
      const hold: Hold = { kind: 'limits', denials: [own] };
      if (own.level === 'tenant') {
        this.parking.blockTenant(tenant, own);
        this.parking.parkInGroup(state, hold);
      } else {
        const keys = own.reason === 'concurrency' ? [own.key] : [];
        this.parking.parkAlone(state, hold, own.retryAtMs ?? FAR_FUTURE, keys);
      }
      return null;
    }
    if (tenant.blocked) this.parking.unblockLater(tenant);
    const { group } = state;
    if (!group.open) {
      // Nothing can have opened since the group found every route closed (a timer or a freed key
      // would have reopened it): wait there without looking.
      this.parking.parkInGroup(state, group.hold!);
      return null;
    }
    return this.tryRoutes(state, task, nowMs, denied);
  }

  private tryRoutes(
    state: CampaignState<T>,
    task: T,
    nowMs: number,
    denied: LimitDenial[],
  ): Dispatch<T> | null {
    const { group, campaign, tenant } = state;
    const { round } = this;
    const usable = this.routing.usableRoutes(group, nowMs, round);
    if (usable.length === 0) {
      const hold: Hold = { kind: 'no_route', problems: this.routing.routeProblems(group, nowMs) };
      const retry = minOf(this.routing.earliestHealthTransition(group), group.overloadEndsAtMs);
      // A transition already due happens at the loop's next health tick: look again in a second.
      this.parking.closeGroup(group, hold, retry !== null && retry > nowMs ? retry : nowMs + 1_000);
      this.parking.parkInGroup(state, hold);
      return null;
    }
    const open = this.openRoutes;
    open.length = 0;
    for (const route of usable) if (closedGateOf(route, nowMs, round) === null) open.push(route);
    const ordered = avoidingFailedRoute(this.orderOpen(state, usable, open, nowMs), task.avoid);
    let callerDenials: Map<Route, LimitDenial> | null = null;
    const attemptId = ordered.length > 0 ? this.options.newAttemptId(nowMs) : '';
    for (let i = 0; i < ordered.length; i++) {
      const route = ordered[i]!;
      // Another route through the same line or switch may have just found it closed.
      if (closedGateOf(route, nowMs, round) !== null) continue;
      const line = route.line.line;
      const callerId = this.peekCallerId(state, line);
      const lineLevel = this.routing.lineLevel(route, nowMs);
      const switchLevel = this.routing.switchLevel(route, nowMs);
      const levels: SlotLevel[] = [state.level, tenant.level, lineLevel, route.gateway.level, switchLevel];
      if (callerId && (line.callerIdCaps !== null || line.callerIdMaxConcurrent !== null)) {
        levels.push(
          ownLevel(`callerid:${line.id}:${callerId}`, line.callerIdCaps, line.callerIdMaxConcurrent),
        );
      }
      const result = this.options.slots.acquire(attemptId, levels, nowMs, campaign.leaseTtlMs);
      if (result.granted) {
        state.queue.take();
        state.cursor++;
        if (line.callerIds.length > 0) state.callerCursor++;
        this.leases.set(attemptId, {
          keys: levels.map((l) => l.key),
          levels,
          campaignId: campaign.id,
          tenantId: tenant.id,
          lineId: line.id,
          settled: false,
        });
        this.routing.callPlaced(line.id);
        state.hold = null;
        tenant.dailyAttempts++;
        // Learn at once whether this call closed its route, rather than by a failed acquisition
        // later; if no other route is left open, the group closes now instead of waking a waiter
        // only to find that out.
        this.limits.learnClosure(route.line.gate, lineLevel, nowMs, round);
        this.limits.learnClosure(route.gateway.gate, route.gateway.level, nowMs, round);
        this.limits.learnClosure(route.switch.gate, switchLevel, nowMs, round);
        if (callerDenials === null && this.limits.noneOpen(ordered, i, nowMs, round)) {
          const { hold, opensAt } = this.limits.explainClosed(group, usable, null, nowMs, round);
          this.parking.closeGroup(group, hold, opensAt);
        }
        return {
          attemptId,
          campaignId: campaign.id,
          tenantId: tenant.id,
          task,
          lineId: line.id,
          gatewayId: route.gateway.gateway.id,
          switchId: route.switchId,
          callerId,
          atMs: nowMs,
        };
      }
      const level = levels.find((l) => l.key === result.denial.key)!;
      const denial = this.limits.denialAt(level, result.denial.reason, result.denial.retryAtMs);
      denied.push(denial);
      const gate =
        level === lineLevel
          ? route.line.gate
          : level === route.gateway.level
            ? route.gateway.gate
            : level === switchLevel
              ? route.switch.gate
              : null;
      if (gate) this.limits.closeGate(gate, denial, nowMs, round);
      else {
        callerDenials ??= new Map();
        callerDenials.set(route, denial);
      }
    }
    // Every usable route is closed: by a shared limit (known or just learned), or by a caller id.
    const { hold, opensAt } = this.limits.explainClosed(group, usable, callerDenials, nowMs, round);
    if (callerDenials === null) {
      this.parking.closeGroup(group, hold, opensAt);
      this.parking.parkInGroup(state, hold);
    } else {
      // A route closed only to this campaign's caller id is open to the others: the group stays
      // open and this campaign waits on its own.
      const keys = hold.kind === 'limits' ? hold.denials.filter((d) => d.reason === 'concurrency') : [];
      this.parking.parkAlone(
        state,
        hold,
        opensAt,
        keys.map((d) => d.key),
      );
    }
    return null;
  }

  /** The open routes in the campaign's order of preference (its strategy). */
  private orderOpen(
    state: CampaignState<T>,
    usable: readonly Route[],
    open: Route[],
    nowMs: number,
  ): Route[] {
    const { strategy } = state.campaign;
    if (strategy === 'round_robin') {
      // Rotate over every usable route, as if none were closed, then skip the closed ones: the
      // rotation does not depend on which routes happen to be at their limits.
      const start = state.cursor % usable.length;
      const ordered: Route[] = [];
      for (let i = 0; i < usable.length; i++) {
        const route = usable[(start + i) % usable.length]!;
        if (closedGateOf(route, nowMs, this.round) === null) ordered.push(route);
      }
      return ordered;
    }
    if (open.length === 0) return [];
    const slots = this.options.slots;
    for (const route of open) {
      route.capsShare = route.line.capsShare;
      if (strategy === 'answer_rate_first' || strategy === 'least_loaded') {
        route.switchLoad = slots.inFlight(route.switch.gate.key) / Math.max(1, route.switch.sw.maxSessions);
      }
      if (strategy === 'answer_rate_first') route.answerScore = this.routing.answerScore(route.line, nowMs);
      if (strategy === 'least_loaded') {
        route.lineLoad = slots.inFlight(route.line.gate.key) / Math.max(1, route.line.line.maxConcurrent);
      }
    }
    return orderRoutes(strategy, open, {
      random: this.options.random,
      cursor: state.cursor,
      explorationShare: this.explorationShare,
    });
  }

  private peekCallerId(state: CampaignState<T>, line: CoreLine): string | null {
    if (line.callerIds.length === 0) return state.campaign.callerId;
    return line.callerIds[state.callerCursor % line.callerIds.length]!;
  }

  private releaseLease(attemptId: string, nowMs: number): void {
    this.options.slots.release(attemptId);
    const lease = this.leases.get(attemptId);
    if (!lease) return;
    this.leases.delete(attemptId);
    this.settle(lease);
    this.parking.onReleased(lease, nowMs);
  }

  /** The call no longer counts among its line's unsettled ones (once). */
  private settle(lease: Lease | undefined): void {
    if (!lease || lease.settled) return;
    lease.settled = true;
    this.routing.callSettled(lease.lineId);
  }

  private noteHealthChange(lineId: string, change: HealthChange, nowMs: number): void {
    this.healthChanges.push({ ...change, lineId });
    this.routing.healthChanged(lineId, change, nowMs);
    this.parking.reopenRoutes(nowMs);
  }
}

function minOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}
