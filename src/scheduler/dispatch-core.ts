import type { DialSlots, SlotLevel } from '../coord/contract.js';
import type { Outcome } from '../domain/outcome.js';
import { isWithinSchedule, nextOpeningMs } from './calling-window.js';
import { CampaignQueue, type QueuedTask } from './campaign-queue.js';
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
  type RouteProblem,
  type SwitchLoad,
} from './core-types.js';
import { MinHeap } from './heap.js';
import {
  DEFAULT_HEALTH_POLICY,
  type HealthChange,
  type HealthOverride,
  type HealthPolicy,
  LineHealth,
} from './line-health.js';
import { OutcomeWindow } from './line-stats.js';
import { orderRoutes, type RouteCandidate } from './route-selection.js';

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

interface TenantState<T extends QueuedTask> {
  tenant: CoreTenant;
  /** Attempts dispatched in the UTC day starting at `dayStartMs`. */
  dailyAttempts: number;
  dayStartMs: number;
  pass: number;
  /** Pass of the last campaign served: the reference when no campaign of the tenant competes. */
  virtualTime: number;
  ready: MinHeap<CampaignState<T>>;
  inHeap: boolean;
  campaigns: Set<CampaignState<T>>;
}

interface CampaignState<T extends QueuedTask = QueuedTask> {
  campaign: CoreCampaign;
  queue: CampaignQueue<T>;
  pass: number;
  cursor: number;
  callerCursor: number;
  /** In its tenant's ready heap, or parked (waiting on time or freed slots). */
  ready: boolean;
  parkGeneration: number;
  hold: Hold | null;
}

interface Lease {
  keys: string[];
  campaignId: string;
}

const FAR_FUTURE = Number.MAX_SAFE_INTEGER;
const DAY_MS = 86_400_000;

function utcDayStart(nowMs: number): number {
  return nowMs - (nowMs % DAY_MS);
}

/** A task whose last attempt failed on a switch or line tries the others first (fail-over). */
function avoidingFailedRoute<R extends RouteCandidate>(routes: R[], avoid: QueuedTask['avoid']): R[] {
  if (!avoid) return routes;
  const fresh = routes.filter((r) => r.switchId !== avoid.switchId && r.lineId !== avoid.lineId);
  const partly = routes.filter((r) => (r.switchId !== avoid.switchId) !== (r.lineId !== avoid.lineId));
  const same = routes.filter((r) => r.switchId === avoid.switchId && r.lineId === avoid.lineId);
  return [...fresh, ...partly, ...same];
}

/** Parked for lack of work rather than for lack of resources. */
function isIdle<T extends QueuedTask>(state: CampaignState<T>): boolean {
  if (state.ready) return false;
  const hold = state.hold;
  if (!hold) return true;
  if (hold.kind === 'limits') return hold.denials.some((d) => d.reason === 'daily_attempts');
  return hold.kind !== 'no_route';
}

function windowFor(windows: Map<string, OutcomeWindow>, id: string): OutcomeWindow {
  let window = windows.get(id);
  if (!window) {
    window = new OutcomeWindow();
    windows.set(id, window);
  }
  return window;
}

function byPass<S extends { pass: number }>(id: (s: S) => string): (a: S, b: S) => boolean {
  return (a, b) => a.pass < b.pass || (a.pass === b.pass && id(a) < id(b));
}

/**
 * The scheduler's pure decision core (R3.4, R3.5, R3.8, R3.10). Given tasks, resources and the
 * live state of switches, `decide()` hands out fully resourced calls:
 *
 * - **Fair**: weighted fair queuing by stride — tenants by weight, then a tenant's campaigns by
 *   weight; each serve advances the served entity's pass by 1/weight and the lowest pass goes next.
 *   A campaign that waited (no due task, outside its window, all routes at their caps) re-enters
 *   no lower than its tenant's virtual time, so waiting earns no burst that would hold others up.
 * - **Blocked campaigns cost nothing**: a campaign that cannot dial is parked until the moment that
 *   can change it — a pace window opening, a task falling due, its calling window opening — or
 *   until a slot it waits on is freed. Decisions never scan parked campaigns.
 * - **Exact limits**: every level (campaign, tenant, line, gateway, switch, caller id) through
 *   `DialSlots`, all or nothing.
 * - **Healthy resources**: lines are admitted by their health state machine (probing lines run at
 *   a share of their CAPS), overloaded or unreachable switches are skipped, and a switch or line
 *   that (re)joins ramps up over the warm-up period.
 *
 * Time and randomness come in as arguments; nothing here reads a clock.
 */
export class DispatchCore<T extends QueuedTask = QueuedTask> {
  private readonly tenants = new Map<string, TenantState<T>>();
  private readonly campaigns = new Map<string, CampaignState<T>>();
  private readonly readyTenants = new MinHeap<TenantState<T>>(byPass((t) => t.tenant.id));
  private readonly timers = new MinHeap<{ atMs: number; campaignId: string; generation: number }>(
    (a, b) => a.atMs < b.atMs,
  );
  private readonly waitingOnKey = new Map<string, Set<string>>();
  private readonly leases = new Map<string, Lease>();
  private lines = new Map<string, CoreLine>();
  private gateways = new Map<string, CoreGateway>();
  private switches = new Map<string, CoreSwitch>();
  private readonly switchUsable = new Map<string, boolean>();
  private readonly switchLoads = new Map<string, SwitchLoad>();
  private readonly joinedAt = new Map<string, number>();
  private readonly health = new Map<string, LineHealth>();
  private readonly lineStats = new Map<string, OutcomeWindow>();
  /**
   * What one `decide()` call has learned, valid only at its instant: shared keys that refused
   * (a pool's line at its pace refuses every campaign on the pool alike, so later campaigns skip
   * it without building levels or acquiring) and each line's admission and answer score.
   */
  private readonly round = {
    refused: new Map<string, LimitDenial>(),
    lines: new Map<
      string,
      { admission: ReturnType<LineHealth['admission']> | undefined; answerScore: number }
    >(),
  };
  /** Calls whose answer was already counted when it happened (not again when they end). */
  private readonly answerCounted = new Set<string>();
  private readonly gatewayStats = new Map<string, OutcomeWindow>();
  private readonly explorationShare: number;
  private readonly warmupMs: number;
  private readonly overload: OverloadPolicy;
  private readonly healthPolicy: HealthPolicy;
  private readonly prior: { rate: number; weight: number };
  /** Health changes since the last `drainHealthChanges()`, for logs, metrics and the API. */
  private healthChanges: Array<HealthChange & { lineId: string }> = [];

  constructor(private readonly options: DispatchCoreOptions) {
    this.explorationShare = options.explorationShare ?? 0.1;
    this.warmupMs = options.warmupMs ?? 30_000;
    this.overload = options.overload ?? DEFAULT_OVERLOAD_POLICY;
    this.healthPolicy = options.health ?? DEFAULT_HEALTH_POLICY;
    this.prior = options.answerRatePrior ?? { rate: 0.3, weight: 20 };
  }

  // ---- the world, as the loop tells it ----------------------------------------------------------

  setResources(
    resources: { lines: CoreLine[]; gateways: CoreGateway[]; switches: CoreSwitch[] },
    nowMs: number,
  ): void {
    this.lines = new Map(resources.lines.map((l) => [l.id, l]));
    this.gateways = new Map(resources.gateways.map((g) => [g.id, g]));
    this.switches = new Map(resources.switches.map((s) => [s.id, s]));
    for (const line of resources.lines) {
      if (!this.health.has(line.id)) {
        this.health.set(line.id, new LineHealth(this.healthPolicy));
        this.joinedAt.set(`line:${line.id}`, nowMs);
      }
    }
    this.wakeAll(nowMs);
  }

  /** Adds or updates a tenant; its campaigns keep their queues. */
  setTenant(tenant: CoreTenant): void {
    const state = this.tenants.get(tenant.id);
    if (state) state.tenant = tenant;
    else {
      this.tenants.set(tenant.id, {
        tenant,
        dailyAttempts: 0,
        dayStartMs: 0,
        pass: 0,
        virtualTime: 0,
        ready: new MinHeap<CampaignState<T>>(byPass((c) => c.campaign.id)),
        inHeap: false,
        campaigns: new Set(),
      });
    }
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
    if (existing) {
      existing.campaign = campaign;
      this.wake(existing, nowMs);
      return;
    }
    const state: CampaignState<T> = {
      campaign,
      queue: new CampaignQueue<T>(),
      pass: 0,
      cursor: 0,
      callerCursor: 0,
      ready: false,
      parkGeneration: 0,
      hold: null,
    };
    this.campaigns.set(campaign.id, state);
    this.tenants.get(campaign.tenantId)!.campaigns.add(state);
    this.wake(state, nowMs);
  }

  removeCampaign(campaignId: string): void {
    const state = this.campaigns.get(campaignId);
    if (!state) return;
    this.campaigns.delete(campaignId);
    const tenant = this.tenants.get(state.campaign.tenantId);
    tenant?.campaigns.delete(state);
    if (tenant && state.ready) tenant.ready.removeWhere((c) => c.campaign.id === campaignId);
    state.ready = false;
    state.parkGeneration++;
  }

  hasCampaign(campaignId: string): boolean {
    return this.campaigns.has(campaignId);
  }

  enqueue(campaignId: string, task: T, nowMs: number): void {
    const state = this.campaigns.get(campaignId);
    if (!state) return;
    state.queue.add(task, nowMs);
    if (!state.ready && state.hold?.kind === 'no_due_tasks') this.wake(state, nowMs);
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
    const was = this.switchUsable.get(switchId) ?? false;
    this.switchUsable.set(switchId, usable);
    if (usable && !was) {
      this.joinedAt.set(`switch:${switchId}`, nowMs);
      this.wakeAll(nowMs);
    }
  }

  setSwitchLoad(switchId: string, load: SwitchLoad, nowMs: number): void {
    const wasOverloaded = this.isOverloaded(switchId, nowMs);
    this.switchLoads.set(switchId, load);
    if (wasOverloaded && !this.isOverloaded(switchId, nowMs)) this.wakeAll(nowMs);
  }

  setLineOverride(lineId: string, override: HealthOverride, nowMs: number): HealthChange | null {
    const health = this.health.get(lineId);
    if (!health) return null;
    const change = health.setOverride(override, nowMs);
    if (change) this.noteHealthChange(lineId, change, nowMs);
    this.wakeAll(nowMs);
    return change;
  }

  // ---- decisions ----------------------------------------------------------------------------------

  /**
   * Up to `budget` dispatches at `nowMs`, fairly across tenants and campaigns. Tasks whose expiry
   * passed are dropped from the queue and returned in `expired` for the loop to record.
   */
  decide(nowMs: number, budget: number): { dispatches: Dispatch<T>[]; expired: T[]; denied: LimitDenial[] } {
    this.runTimers(nowMs);
    this.round.refused.clear();
    this.round.lines.clear();
    const dispatches: Dispatch<T>[] = [];
    const expired: T[] = [];
    const denied: LimitDenial[] = [];
    while (dispatches.length < budget) {
      const tenant = this.readyTenants.peek();
      if (!tenant) break;
      const campaign = tenant.ready.peek();
      if (!campaign) {
        this.readyTenants.pop();
        tenant.inHeap = false;
        continue;
      }
      const dispatch = this.tryDispatch(campaign, nowMs, expired, denied);
      tenant.ready.pop();
      if (dispatch) {
        dispatches.push(dispatch);
        tenant.virtualTime = Math.max(tenant.virtualTime, campaign.pass);
        campaign.pass += 1 / Math.max(campaign.campaign.weight, 1e-9);
        tenant.ready.push(campaign);
        this.readyTenants.pop();
        tenant.pass += 1 / Math.max(tenant.tenant.weight, 1e-9);
        this.readyTenants.push(tenant);
      } else if (tenant.ready.size === 0) {
        this.readyTenants.pop();
        tenant.inHeap = false;
      }
    }
    return { dispatches, expired, denied };
  }

  /** The earliest time a parked campaign may become able to dial (for the loop's sleep). */
  nextWakeAtMs(): number | null {
    this.dropStaleTimers();
    const top = this.timers.peek();
    return top ? top.atMs : null;
  }

  hasReadyWork(): boolean {
    return this.readyTenants.size > 0;
  }

  /** The dispatch's originate was written to its switch at `atMs` (pace is counted in send time). */
  markSent(attemptId: string, atMs: number): void {
    this.options.slots.markSent(attemptId, atMs);
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
    const health = this.health.get(route.lineId);
    if (health) {
      const change = health.record(outcome, nowMs);
      if (change) this.noteHealthChange(route.lineId, change, nowMs);
    }
    windowFor(this.lineStats, route.lineId).record(outcome, nowMs);
    windowFor(this.gatewayStats, route.gatewayId).record(outcome, nowMs);
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
    const line = this.lines.get(at.lineId);
    const gateway = this.gateways.get(at.gatewayId);
    const sw = this.switches.get(at.switchId);
    const levels = this.levelsFor(
      {
        campaignId: at.campaignId,
        campaign,
        tenantId: at.tenantId,
        tenant,
        line,
        lineId: at.lineId,
        gateway,
        gatewayId: at.gatewayId,
        sw,
        switchId: at.switchId,
        callerId: at.callerId,
      },
      nowMs,
    ).map((level) => ({ ...level, capsPerSecond: null }));
    this.options.slots.adopt(attemptId, levels, nowMs, ttlMs);
    this.leases.set(attemptId, { keys: levels.map((l) => l.key), campaignId: at.campaignId });
  }

  /** Leases past their lifetime (lost hang-ups) are freed; returns their attempt ids. */
  expireLeases(nowMs: number): string[] {
    const expired = this.options.slots.expire(nowMs);
    for (const id of expired) {
      const lease = this.leases.get(id);
      this.leases.delete(id);
      if (lease) this.wakeWaiters(lease.keys, nowMs);
    }
    return expired;
  }

  /** Time-driven health transitions (ejected → probing). */
  tickHealth(nowMs: number): void {
    for (const [lineId, health] of this.health) {
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
    return state.ready ? null : state.hold;
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
    const health = this.health.get(lineId);
    if (!health) return null;
    return { ...health.admission(nowMs), stats: health.stats(nowMs), override: health.override };
  }

  inFlight(key: string): number {
    return this.options.slots.inFlight(key);
  }

  // ---- internals ----------------------------------------------------------------------------

  private tryDispatch(
    state: CampaignState<T>,
    nowMs: number,
    expired: T[],
    denied: LimitDenial[],
  ): Dispatch<T> | null {
    const { campaign } = state;
    if (campaign.schedule && !isWithinSchedule(campaign.schedule, nowMs)) {
      const opening = nextOpeningMs(campaign.schedule, nowMs);
      this.park(state, { kind: 'outside_window', nextOpeningAtMs: opening }, opening ?? FAR_FUTURE, []);
      return null;
    }
    const task = state.queue.head(nowMs, expired);
    if (!task) {
      const next = state.queue.nextDueAtMs();
      this.park(
        state,
        { kind: 'no_due_tasks', queued: state.queue.size, nextDueAtMs: next },
        next ?? FAR_FUTURE,
        [],
      );
      return null;
    }
    const tenantState = this.tenants.get(campaign.tenantId)!;
    const tenant = tenantState.tenant;
    if (tenant.maxDailyAttempts !== null) {
      const today = utcDayStart(nowMs);
      if (tenantState.dayStartMs !== today) {
        tenantState.dayStartMs = today;
        tenantState.dailyAttempts = 0;
      }
      if (tenantState.dailyAttempts >= tenant.maxDailyAttempts) {
        const denial: LimitDenial = {
          level: 'tenant',
          key: `tenant:${tenant.id}`,
          reason: 'daily_attempts',
          inFlight: tenantState.dailyAttempts,
          maxConcurrent: tenant.maxDailyAttempts,
          capsPerSecond: null,
          retryAtMs: today + DAY_MS,
        };
        this.park(state, { kind: 'limits', denials: [denial] }, today + DAY_MS, []);
        return null;
      }
    }
    const { candidates, problems } = this.candidates(campaign, nowMs);
    if (candidates.length === 0) {
      const retry = this.earliestHealthTransition(campaign) ?? nowMs + 1_000;
      this.park(state, { kind: 'no_route', problems }, retry, []);
      return null;
    }
    const ordered = avoidingFailedRoute(
      orderRoutes(campaign.strategy, candidates, {
        random: this.options.random,
        cursor: state.cursor,
        explorationShare: this.explorationShare,
      }),
      task.avoid,
    );
    const attemptId = this.options.newAttemptId(nowMs);
    const denials: LimitDenial[] = [];
    for (const route of ordered) {
      const line = this.lines.get(route.lineId)!;
      const known =
        this.round.refused.get(`line:${line.id}`) ??
        this.round.refused.get(`switch:${route.switchId}`) ??
        this.round.refused.get(`gateway:${line.gatewayId}`);
      if (known) {
        denials.push(known);
        continue;
      }
      const gateway = this.gateways.get(line.gatewayId)!;
      const sw = this.switches.get(route.switchId)!;
      const callerId = this.peekCallerId(state, line);
      const levels = this.levelsFor(
        {
          campaignId: campaign.id,
          campaign,
          tenantId: tenant.id,
          tenant,
          line,
          lineId: line.id,
          gateway,
          gatewayId: gateway.id,
          sw,
          switchId: sw.id,
          callerId,
        },
        nowMs,
        route.capsShare,
      );
      const result = this.options.slots.acquire(attemptId, levels, nowMs, campaign.leaseTtlMs);
      if (result.granted) {
        state.queue.take();
        state.cursor++;
        if (line.callerIds.length > 0) state.callerCursor++;
        this.leases.set(attemptId, { keys: levels.map((l) => l.key), campaignId: campaign.id });
        state.hold = null;
        tenantState.dailyAttempts++;
        return {
          attemptId,
          campaignId: campaign.id,
          tenantId: tenant.id,
          task,
          lineId: line.id,
          gatewayId: gateway.id,
          switchId: sw.id,
          callerId,
          atMs: nowMs,
        };
      }
      const level = levels.find((l) => l.key === result.denial.key)!;
      const denial: LimitDenial = {
        level: level.key.split(':')[0]!,
        key: level.key,
        reason: result.denial.reason,
        inFlight: this.options.slots.inFlight(level.key),
        maxConcurrent: level.maxConcurrent,
        capsPerSecond: level.capsPerSecond,
        retryAtMs: result.denial.retryAtMs,
      };
      denials.push(denial);
      if (denial.level === 'line' || denial.level === 'switch' || denial.level === 'gateway') {
        this.round.refused.set(denial.key, denial);
      }
    }
    denied.push(...denials);
    const retryAt = denials.reduce(
      (min, d) => (d.retryAtMs !== null && d.retryAtMs < min ? d.retryAtMs : min),
      FAR_FUTURE,
    );
    const keys = denials.filter((d) => d.reason === 'concurrency').map((d) => d.key);
    // A campaign waiting on caps alone must still re-check within the warm-up/health horizon.
    this.park(
      state,
      { kind: 'limits', denials },
      keys.length > 0 || retryAt < FAR_FUTURE ? retryAt : nowMs + 1_000,
      keys,
    );
    return null;
  }

  private levelsFor(
    at: {
      campaignId: string;
      campaign: CoreCampaign | undefined;
      tenantId: string;
      tenant: CoreTenant | undefined;
      lineId: string;
      line: CoreLine | undefined;
      gatewayId: string;
      gateway: CoreGateway | undefined;
      switchId: string;
      sw: CoreSwitch | undefined;
      callerId: string | null;
    },
    nowMs: number,
    lineCapsShare = 1,
  ): SlotLevel[] {
    const levels: SlotLevel[] = [
      {
        key: `campaign:${at.campaignId}`,
        capsPerSecond: at.campaign?.caps ?? null,
        maxConcurrent: at.campaign?.maxConcurrent ?? null,
      },
      {
        key: `tenant:${at.tenantId}`,
        capsPerSecond: at.tenant?.maxCaps ?? null,
        maxConcurrent: at.tenant?.maxConcurrent ?? null,
      },
      {
        key: `line:${at.lineId}`,
        capsPerSecond: at.line
          ? at.line.caps * lineCapsShare * this.warmup(`line:${at.lineId}`, nowMs)
          : null,
        maxConcurrent: at.line?.maxConcurrent ?? null,
      },
      {
        key: `gateway:${at.gatewayId}`,
        capsPerSecond: at.gateway?.maxCaps ?? null,
        maxConcurrent: at.gateway?.maxConcurrent ?? null,
      },
      {
        key: `switch:${at.switchId}`,
        capsPerSecond: at.sw ? at.sw.maxCaps * this.warmup(`switch:${at.switchId}`, nowMs) : null,
        maxConcurrent: at.sw?.maxSessions ?? null,
      },
    ];
    if (at.callerId && at.line && (at.line.callerIdCaps !== null || at.line.callerIdMaxConcurrent !== null)) {
      levels.push({
        key: `callerid:${at.line.id}:${at.callerId}`,
        capsPerSecond: at.line.callerIdCaps,
        maxConcurrent: at.line.callerIdMaxConcurrent,
      });
    }
    return levels;
  }

  /** Slow start: 10 % of the CAPS at (re)join, rising linearly to 100 % over the warm-up. */
  private warmup(key: string, nowMs: number): number {
    const since = this.joinedAt.get(key);
    if (since === undefined || this.warmupMs <= 0) return 1;
    return Math.min(1, Math.max(0.1, (nowMs - since) / this.warmupMs));
  }

  private candidates(
    campaign: CoreCampaign,
    nowMs: number,
  ): { candidates: Array<RouteCandidate & { capsShare: number }>; problems: RouteProblem[] } {
    const problems: RouteProblem[] = [];
    const lineIds = campaign.lineIds.length > 0 ? campaign.lineIds : [...this.lines.keys()];
    const candidates: Array<RouteCandidate & { capsShare: number }> = [];
    for (const lineId of lineIds) {
      const line = this.lines.get(lineId);
      if (!line || (line.tenantId !== null && line.tenantId !== campaign.tenantId)) continue;
      if (!line.enabled) {
        problems.push({ kind: 'line_disabled', lineId });
        continue;
      }
      const { admission, answerScore } = this.lineFacts(lineId, nowMs);
      if (admission && !admission.usable) {
        problems.push({ kind: 'line_ejected', lineId, state: admission.state, reason: admission.reason });
        continue;
      }
      const gateway = this.gateways.get(line.gatewayId);
      if (!gateway?.enabled) {
        problems.push({ kind: 'gateway_disabled', gatewayId: line.gatewayId });
        continue;
      }
      const lineLoad = this.options.slots.inFlight(`line:${lineId}`) / Math.max(1, line.maxConcurrent);
      for (const switchId of gateway.switchIds) {
        const sw = this.switches.get(switchId);
        if (!sw?.enabled || !this.switchUsable.get(switchId)) {
          problems.push({ kind: 'switch_unreachable', switchId });
          continue;
        }
        if (this.isOverloaded(switchId, nowMs)) {
          const load = this.switchLoads.get(switchId)!;
          problems.push({
            kind: 'switch_overloaded',
            switchId,
            sessionCount: load.sessionCount,
            maxSessions: load.maxSessions,
            idleCpuPercent: load.idleCpuPercent,
          });
          continue;
        }
        candidates.push({
          lineId,
          switchId,
          weight: line.weight,
          lineLoad,
          switchLoad: this.options.slots.inFlight(`switch:${switchId}`) / Math.max(1, sw.maxSessions),
          answerScore,
          capsShare: admission?.capsShare ?? 1,
        });
      }
    }
    if (lineIds.length === 0) problems.push({ kind: 'no_lines' });
    return { candidates, problems };
  }

  /** A line's admission and answer score, computed once per decision round. */
  private lineFacts(lineId: string, nowMs: number) {
    let facts = this.round.lines.get(lineId);
    if (!facts) {
      facts = {
        admission: this.health.get(lineId)?.admission(nowMs),
        answerScore:
          this.lineStats.get(lineId)?.smoothedAnswerRate(nowMs, 5, this.prior.rate, this.prior.weight) ??
          this.prior.rate,
      };
      this.round.lines.set(lineId, facts);
    }
    return facts;
  }

  private isOverloaded(switchId: string, nowMs: number): boolean {
    const load = this.switchLoads.get(switchId);
    if (!load || nowMs - load.atMs > this.overload.staleAfterMs) return false;
    if (load.maxSessions > 0 && load.sessionCount >= load.maxSessions * this.overload.maxSessionShare)
      return true;
    return load.idleCpuPercent !== undefined && load.idleCpuPercent < this.overload.minIdleCpuPercent;
  }

  private earliestHealthTransition(campaign: CoreCampaign): number | null {
    let earliest: number | null = null;
    const lineIds = campaign.lineIds.length > 0 ? campaign.lineIds : [...this.lines.keys()];
    for (const lineId of lineIds) {
      const at = this.health.get(lineId)?.nextTransitionAtMs() ?? null;
      if (at !== null && (earliest === null || at < earliest)) earliest = at;
    }
    return earliest;
  }

  private peekCallerId(state: CampaignState<T>, line: CoreLine): string | null {
    if (line.callerIds.length === 0) return state.campaign.callerId;
    return line.callerIds[state.callerCursor % line.callerIds.length]!;
  }

  private park(state: CampaignState<T>, hold: Hold, untilMs: number, keys: string[]): void {
    state.ready = false;
    state.hold = hold;
    state.parkGeneration++;
    if (untilMs < FAR_FUTURE)
      this.timers.push({ atMs: untilMs, campaignId: state.campaign.id, generation: state.parkGeneration });
    for (const key of keys) {
      let waiting = this.waitingOnKey.get(key);
      if (!waiting) {
        waiting = new Set();
        this.waitingOnKey.set(key, waiting);
      }
      waiting.add(state.campaign.id);
    }
  }

  /**
   * Back into the ready heaps. Only a return from *idle* (nothing due, outside calling hours,
   * the day's cap reached) moves a campaign or tenant forward — to the lowest pass among those
   * still competing — so idling earns no burst. A return from a wait on limits keeps its pass:
   * it was held back by the very resources its competitors share, and moving it to a pass set
   * elsewhere (another, busier pool) would starve it.
   */
  private wake(state: CampaignState<T>, _nowMs: number): void {
    if (state.ready) return;
    const tenant = this.tenants.get(state.campaign.tenantId)!;
    const fromIdle = isIdle(state);
    state.ready = true;
    state.parkGeneration++;
    if (fromIdle) state.pass = Math.max(state.pass, this.campaignReference(tenant, state));
    tenant.ready.push(state);
    if (!tenant.inHeap) {
      if (fromIdle && !this.isCompeting(tenant, state))
        tenant.pass = Math.max(tenant.pass, this.tenantReference(tenant));
      this.readyTenants.push(tenant);
      tenant.inHeap = true;
    }
  }

  /** The lowest pass among the tenant's other competing campaigns, or its last served pass. */
  private campaignReference(tenant: TenantState<T>, except: CampaignState<T>): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const other of tenant.campaigns) {
      if (other !== except && !isIdle(other) && other.pass < lowest) lowest = other.pass;
    }
    return lowest === Number.POSITIVE_INFINITY ? tenant.virtualTime : lowest;
  }

  /** Whether any other campaign of the tenant is competing (ready or waiting on limits). */
  private isCompeting(tenant: TenantState<T>, except: CampaignState<T>): boolean {
    for (const other of tenant.campaigns) if (other !== except && !isIdle(other)) return true;
    return false;
  }

  /** The lowest pass among the other competing tenants, or the tenant's own when none compete. */
  private tenantReference(self: TenantState<T>): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const other of this.tenants.values()) {
      if (other === self || other.pass >= lowest) continue;
      for (const campaign of other.campaigns) {
        if (!isIdle(campaign)) {
          lowest = other.pass;
          break;
        }
      }
    }
    return lowest === Number.POSITIVE_INFINITY ? self.pass : lowest;
  }

  private wakeAll(nowMs: number): void {
    for (const state of this.campaigns.values()) if (!state.ready) this.wake(state, nowMs);
  }

  private wakeWaiters(keys: readonly string[], nowMs: number): void {
    for (const key of keys) {
      const waiting = this.waitingOnKey.get(key);
      if (!waiting) continue;
      this.waitingOnKey.delete(key);
      for (const campaignId of waiting) {
        const state = this.campaigns.get(campaignId);
        if (state && !state.ready) this.wake(state, nowMs);
      }
    }
  }

  private releaseLease(attemptId: string, nowMs: number): void {
    this.options.slots.release(attemptId);
    const lease = this.leases.get(attemptId);
    if (!lease) return;
    this.leases.delete(attemptId);
    this.wakeWaiters(lease.keys, nowMs);
  }

  private runTimers(nowMs: number): void {
    for (;;) {
      const top = this.timers.peek();
      if (!top || top.atMs > nowMs) return;
      this.timers.pop();
      const state = this.campaigns.get(top.campaignId);
      if (state && !state.ready && state.parkGeneration === top.generation) this.wake(state, nowMs);
    }
  }

  private dropStaleTimers(): void {
    for (;;) {
      const top = this.timers.peek();
      if (!top) return;
      const state = this.campaigns.get(top.campaignId);
      if (state && !state.ready && state.parkGeneration === top.generation) return;
      this.timers.pop();
    }
  }

  private noteHealthChange(lineId: string, change: HealthChange, nowMs: number): void {
    this.healthChanges.push({ ...change, lineId });
    if (change.to !== 'ejected') this.joinedAt.set(`line:${lineId}`, nowMs);
    this.wakeAll(nowMs);
  }
}
