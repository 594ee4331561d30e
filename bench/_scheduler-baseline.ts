/**
 * The seed's scheduler, followed literally (R3.8 as the article describes it), for side-by-side
 * figures: a tick every second; each tick visits the campaigns' queues in a fixed order and gives
 * each at most 900 ms of wall-clock budget; per queue it takes the usable resources, checks they
 * suffice (CAPS counted per fixed 1-s window, concurrency counted live) and picks a line by round
 * robin or at random. No weights, no line health, no switch-load protection, no slow start.
 *
 * The tick fires at each second boundary plus a timer lag of 0–20 ms (a timer aligned to the
 * second, on a busy event loop). Every dispatch of a tick happens at the tick's instant.
 */
import { MinHeap } from '../src/scheduler/heap.js';
import type { Demand } from './_scheduler-core-run.js';
import {
  DispatchLog,
  type Disturbances,
  placeCall,
  seeded,
  T0,
  uniform,
  type World,
} from './_scheduler-world.js';

export interface BaselineSpec {
  world: World;
  seed: number;
  durationMs: number;
  demand: Demand;
  selection: 'round_robin' | 'random';
  disturbances: Disturbances | null;
}

export interface BaselineResult {
  log: DispatchLog;
  tickWallMs: number;
  overloadDispatches: number;
  failingLineDispatches: number;
}

const TICK_MS = 1_000;
const QUEUE_BUDGET_MS = 900;
const TIMER_LAG_MS = 20;

/** Per-level counters: calls in the current fixed 1-s window, and calls in flight. */
class Counters {
  private readonly windowOf: Float64Array;
  private readonly inWindow: Float64Array;
  readonly inFlight: Float64Array;

  constructor(size: number) {
    this.windowOf = new Float64Array(size).fill(-1);
    this.inWindow = new Float64Array(size);
    this.inFlight = new Float64Array(size);
  }

  fits(index: number, window: number, caps: number | null, maxConcurrent: number | null): boolean {
    const used = this.windowOf[index] === window ? this.inWindow[index]! : 0;
    if (caps !== null && used >= caps) return false;
    return maxConcurrent === null || this.inFlight[index]! < maxConcurrent;
  }

  take(index: number, window: number): void {
    if (this.windowOf[index] !== window) {
      this.windowOf[index] = window;
      this.inWindow[index] = 0;
    }
    this.inWindow[index]!++;
    this.inFlight[index]!++;
  }
}

interface End {
  atMs: number;
  line: number;
  gateway: number;
  switchIndex: number;
  tenant: number;
}

export function runBaseline(spec: BaselineSpec): BaselineResult {
  const { world } = spec;
  const random = seeded(spec.seed);
  const callRandom = seeded(spec.seed + 1);
  const luckRandom = seeded(spec.seed + 2);
  const lines = new Counters(world.lines.length);
  const gateways = new Counters(world.gateways.length);
  const switches = new Counters(world.switches.length);
  const tenants = new Counters(world.tenants.length);
  const cursor = world.campaigns.map(() => 0);
  const switchCursor = world.gateways.map(() => 0);
  const ends = new MinHeap<End>((a, b) => a.atMs < b.atMs);
  const log = new DispatchLog();
  const result: BaselineResult = { log, tickWallMs: 0, overloadDispatches: 0, failingLineDispatches: 0 };

  // Queues: due times per campaign (with each task's luck drawn in the same order as the core run's).
  const due = spec.demand.kind === 'due' ? spec.demand.dueMs : null;
  const luck = due ? due.map((times) => times.map(() => luckRandom())) : null;
  const head = world.campaigns.map(() => 0);
  const hasDue = (c: number, nowMs: number) =>
    !due || (head[c]! < due[c]!.length && due[c]![head[c]!]! <= nowMs);

  const d = spec.disturbances;
  const isFailing = (line: number, atMs: number) =>
    d !== null && line === d.failingLine && atMs >= T0 + d.lineFailsAtMs && atMs < T0 + d.lineRecoversAtMs;
  // The switch reports its overload in a heartbeat; the baseline never reads it (no overload protection).
  const isOverloaded = (s: number, atMs: number) =>
    d !== null && s === d.overloadedSwitch && atMs >= T0 + d.overloadFromMs && atMs < T0 + d.overloadUntilMs;

  const endCallsUntil = (atMs: number) => {
    for (let e = ends.peek(); e && e.atMs <= atMs; e = ends.peek()) {
      ends.pop();
      lines.inFlight[e.line]!--;
      gateways.inFlight[e.gateway]!--;
      switches.inFlight[e.switchIndex]!--;
      tenants.inFlight[e.tenant]!--;
    }
  };

  /** Round robin (or random start) over the campaign's lines; the first whose levels all fit wins. */
  const pickRoute = (c: number, window: number): { line: number; switchIndex: number } | null => {
    const campaign = world.campaigns[c]!;
    const tenant = world.tenants[campaign.tenantIndex]!;
    if (!tenants.fits(tenant.index, window, tenant.maxCaps, tenant.maxConcurrent)) return null;
    const pool = world.pools[campaign.poolIndex]!.lineIndices;
    const start = spec.selection === 'random' ? Math.floor(random() * pool.length) : cursor[c]!;
    for (let k = 0; k < pool.length; k++) {
      const line = world.lines[pool[(start + k) % pool.length]!]!;
      if (!lines.fits(line.index, window, line.caps, line.maxConcurrent)) continue;
      const gateway = world.gateways[line.gatewayIndex]!;
      for (let s = 0; s < 2; s++) {
        const sw = world.switches[gateway.switchIndices[(switchCursor[gateway.index]! + s) % 2]!]!;
        if (!switches.fits(sw.index, window, sw.maxCaps, sw.maxSessions)) continue;
        switchCursor[gateway.index] = (switchCursor[gateway.index]! + s + 1) % 2;
        cursor[c] = (start + k + 1) % pool.length;
        return { line: line.index, switchIndex: sw.index };
      }
    }
    return null;
  };

  const dispatch = (
    c: number,
    route: { line: number; switchIndex: number },
    nowMs: number,
    window: number,
  ) => {
    const campaign = world.campaigns[c]!;
    const line = world.lines[route.line]!;
    const failingNow = isFailing(line.index, nowMs);
    const taskLuck = luck ? luck[c]![head[c]!]! : luckRandom();
    const dueMs = due ? due[c]![head[c]!]! : T0;
    head[c]!++;
    const call = placeCall(line, failingNow, taskLuck, callRandom);
    lines.take(line.index, window);
    gateways.take(line.gatewayIndex, window);
    switches.take(route.switchIndex, window);
    tenants.take(campaign.tenantIndex, window);
    const endMs = nowMs + call.durationMs;
    ends.push({
      atMs: endMs,
      line: line.index,
      gateway: line.gatewayIndex,
      switchIndex: route.switchIndex,
      tenant: campaign.tenantIndex,
    });
    log.add({
      campaign: c,
      line: line.index,
      switchIndex: route.switchIndex,
      startMs: nowMs,
      endMs,
      dueMs,
      answered: call.outcome === 'answered',
    });
    if (isOverloaded(route.switchIndex, nowMs)) result.overloadDispatches++;
    if (failingNow) result.failingLineDispatches++;
  };

  const tick = (nowMs: number) => {
    const window = Math.floor((nowMs - T0) / TICK_MS);
    const started = performance.now();
    for (const campaign of world.campaigns) {
      const c = campaign.index;
      const queueStarted = performance.now();
      for (let n = 1; hasDue(c, nowMs); n++) {
        // Checking the clock costs; every 64 decisions is plenty against a 900 ms budget.
        if (n % 64 === 0 && performance.now() - queueStarted > QUEUE_BUDGET_MS) break;
        const route = pickRoute(c, window);
        if (!route) break;
        dispatch(c, route, nowMs, window);
      }
    }
    result.tickWallMs += performance.now() - started;
  };

  for (let k = 0; k * TICK_MS < spec.durationMs; k++) {
    const tickAt = T0 + k * TICK_MS + uniform(random, 0, TIMER_LAG_MS);
    endCallsUntil(tickAt);
    tick(tickAt);
  }
  return result;
}
