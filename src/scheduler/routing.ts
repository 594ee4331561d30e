/**
 * What the dispatch core knows of the resources a call goes through — lines, gateways, switches —
 * kept so that a decision reads it without recomputing: each line's health admission (until its
 * health changes) and answer score (until an outcome is recorded or the minute turns), each
 * switch's usability (once per decision round), the closed limits learned from acquisitions, and
 * the route groups campaigns share.
 */
import type { SlotLevel } from '../coord/contract.js';
import type { Outcome } from '../domain/outcome.js';
import type {
  CoreGateway,
  CoreLine,
  CoreSwitch,
  OverloadPolicy,
  RouteProblem,
  SwitchLoad,
} from './core-types.js';
import { type HealthChange, type HealthOverride, type HealthPolicy, LineHealth } from './line-health.js';
import { OutcomeWindow } from './line-stats.js';
import {
  buildRoutes,
  eligibleLineIds,
  type GatewayRuntime,
  LimitGate,
  type LineRuntime,
  type Route,
  RouteGroup,
  type SwitchRuntime,
} from './route-groups.js';

const MINUTE_MS = 60_000;

export interface RoutingOptions {
  warmupMs: number;
  overload: OverloadPolicy;
  health: HealthPolicy;
  /** Prior answer rate for a line with no history, and its weight in pseudo-attempts. */
  prior: { rate: number; weight: number };
}

export class Routing {
  lines = new Map<string, LineRuntime>();
  private gateways = new Map<string, GatewayRuntime>();
  private switches = new Map<string, SwitchRuntime>();
  /** Shared limit keys (line, gateway, switch) → what is known of them. */
  private gates = new Map<string, LimitGate>();
  private groups = new Map<string, RouteGroup>();
  private readonly switchReachable = new Map<string, boolean>();
  private readonly switchLoads = new Map<string, SwitchLoad>();
  private readonly joinedAt = new Map<string, number>();
  readonly health = new Map<string, LineHealth>();
  /** Calls placed per line that have not settled yet (see Lease.settled). */
  private readonly unsettled = new Map<string, number>();
  private readonly lineStats = new Map<string, OutcomeWindow>();
  private readonly gatewayStats = new Map<string, OutcomeWindow>();
  /** Bumped whenever a route's usability may have changed (health, switch state or load). */
  private version = 0;

  constructor(private readonly options: RoutingOptions) {}

  /** Replaces the resources; every group is rebuilt (the old ones are retired). */
  setResources(
    resources: { lines: CoreLine[]; gateways: CoreGateway[]; switches: CoreSwitch[] },
    nowMs: number,
  ): void {
    for (const group of this.groups.values()) group.retired = true;
    this.groups = new Map();
    this.gates = new Map();
    this.lines = new Map();
    for (const line of resources.lines) {
      let health = this.health.get(line.id);
      if (!health) {
        health = new LineHealth(this.options.health);
        this.health.set(line.id, health);
        this.joinedAt.set(`line:${line.id}`, nowMs);
      }
      const admission = health.admission(nowMs);
      this.lines.set(line.id, {
        line,
        gate: this.gate(`line:${line.id}`),
        usable: admission.usable,
        capsShare: admission.capsShare,
        answerScore: this.options.prior.rate,
        answerScoreMinute: Number.NaN,
      });
    }
    this.gateways = new Map(
      resources.gateways.map((gateway) => [
        gateway.id,
        {
          gateway,
          gate: this.gate(`gateway:${gateway.id}`),
          level: {
            key: `gateway:${gateway.id}`,
            capsPerSecond: gateway.maxCaps,
            maxConcurrent: gateway.maxConcurrent,
          },
        },
      ]),
    );
    this.switches = new Map(
      resources.switches.map((sw) => [
        sw.id,
        { sw, gate: this.gate(`switch:${sw.id}`), usable: false, overloadEndsAtMs: null, factsRound: -1 },
      ]),
    );
  }

  private gate(key: string): LimitGate {
    const gate = new LimitGate(key);
    this.gates.set(key, gate);
    return gate;
  }

  gateOf(key: string): LimitGate | undefined {
    return this.gates.get(key);
  }

  /** The group of campaigns of this tenant listing these lines (created on first use). */
  groupFor(campaignLineIds: readonly string[], tenantId: string): RouteGroup {
    const lineIds = eligibleLineIds(campaignLineIds, tenantId, this.lines);
    const signature = lineIds.join('\n');
    let group = this.groups.get(signature);
    if (!group) {
      const routes = buildRoutes(lineIds, this.lines, this.gateways, this.switches);
      group = new RouteGroup(signature, lineIds, routes);
      const gates = new Set<LimitGate>();
      for (const route of routes) {
        gates.add(route.line.gate);
        gates.add(route.gateway.gate);
        gates.add(route.switch.gate);
      }
      for (const gate of gates) gate.groups.push(group);
      this.groups.set(signature, group);
    }
    return group;
  }

  allGroups(): IterableIterator<RouteGroup> {
    return this.groups.values();
  }

  /** Forgets every learned closure (a rate or the set of routes changed). */
  forgetLimits(): void {
    for (const gate of this.gates.values()) gate.forget();
  }

  // ---- switches -------------------------------------------------------------------------------

  /** Returns whether the switch became usable. */
  setSwitchState(switchId: string, usable: boolean, nowMs: number): boolean {
    const was = this.switchReachable.get(switchId) ?? false;
    this.switchReachable.set(switchId, usable);
    this.invalidateSwitch(switchId);
    if (!usable || was) return false;
    this.joinedAt.set(`switch:${switchId}`, nowMs);
    return true;
  }

  /** Returns whether the switch stopped being overloaded. */
  setSwitchLoad(switchId: string, load: SwitchLoad, nowMs: number): boolean {
    const wasOverloaded = this.isOverloaded(switchId, nowMs);
    this.switchLoads.set(switchId, load);
    this.invalidateSwitch(switchId);
    return wasOverloaded && !this.isOverloaded(switchId, nowMs);
  }

  private invalidateSwitch(switchId: string): void {
    const sw = this.switches.get(switchId);
    if (sw) sw.factsRound = -1;
    this.version++;
  }

  private isOverloaded(switchId: string, nowMs: number): boolean {
    const load = this.switchLoads.get(switchId);
    const policy = this.options.overload;
    if (!load || nowMs - load.atMs > policy.staleAfterMs) return false;
    if (load.maxSessions > 0 && load.sessionCount >= load.maxSessions * policy.maxSessionShare) return true;
    return load.idleCpuPercent !== undefined && load.idleCpuPercent < policy.minIdleCpuPercent;
  }

  private switchFacts(sw: SwitchRuntime, nowMs: number, round: number): SwitchRuntime {
    if (sw.factsRound !== round) {
      sw.factsRound = round;
      sw.overloadEndsAtMs = null;
      if (!sw.sw.enabled || !this.switchReachable.get(sw.sw.id)) sw.usable = false;
      else if (this.isOverloaded(sw.sw.id, nowMs)) {
        sw.usable = false;
        // A heartbeat that goes stale is no longer trusted: the switch is usable again then.
        sw.overloadEndsAtMs = this.switchLoads.get(sw.sw.id)!.atMs + this.options.overload.staleAfterMs;
      } else sw.usable = true;
    }
    return sw;
  }

  // ---- routes ---------------------------------------------------------------------------------

  /**
   * The group's routes that may carry a call now, apart from their limits (line admitted, line,
   * gateway and switch enabled, switch reachable and not overloaded). Kept until one of those can
   * have changed: an event (health, switch state or load) or an overloaded switch's heartbeat
   * going stale. The array is shared: read it, never change it.
   */
  usableRoutes(group: RouteGroup, nowMs: number, round: number): readonly Route[] {
    if (group.usableVersion === this.version && nowMs <= group.usableUntilMs) return group.usable;
    const usable: Route[] = [];
    let overloadEnds = Number.POSITIVE_INFINITY;
    for (const route of group.routes) {
      const sw = this.switchFacts(route.switch, nowMs, round);
      if (sw.overloadEndsAtMs !== null) overloadEnds = Math.min(overloadEnds, sw.overloadEndsAtMs);
      const { line } = route;
      if (line.usable && line.line.enabled && route.gateway.gateway.enabled && sw.usable) usable.push(route);
    }
    group.usable = usable;
    group.usableVersion = this.version;
    group.usableUntilMs = overloadEnds;
    group.overloadEndsAtMs = overloadEnds === Number.POSITIVE_INFINITY ? null : overloadEnds;
    return usable;
  }

  /** Why no route of the group can be used (the campaign's lines in its own order). */
  routeProblems(group: RouteGroup, nowMs: number): RouteProblem[] {
    const problems: RouteProblem[] = [];
    for (const lineId of group.lineIds) {
      const line = this.lines.get(lineId)!.line;
      if (!line.enabled) {
        problems.push({ kind: 'line_disabled', lineId });
        continue;
      }
      const admission = this.health.get(lineId)?.admission(nowMs);
      if (admission && !admission.usable) {
        problems.push({ kind: 'line_ejected', lineId, state: admission.state, reason: admission.reason });
        continue;
      }
      const gateway = this.gateways.get(line.gatewayId)?.gateway;
      if (!gateway?.enabled) {
        problems.push({ kind: 'gateway_disabled', gatewayId: line.gatewayId });
        continue;
      }
      for (const switchId of gateway.switchIds) {
        const sw = this.switches.get(switchId)?.sw;
        if (!sw?.enabled || !this.switchReachable.get(switchId)) {
          problems.push({ kind: 'switch_unreachable', switchId });
          continue;
        }
        const load = this.switchLoads.get(switchId);
        if (load && this.isOverloaded(switchId, nowMs)) {
          problems.push({
            kind: 'switch_overloaded',
            switchId,
            sessionCount: load.sessionCount,
            maxSessions: load.maxSessions,
            idleCpuPercent: load.idleCpuPercent,
          });
        }
      }
    }
    if (group.lineIds.length === 0) problems.push({ kind: 'no_lines' });
    return problems;
  }

  earliestHealthTransition(group: RouteGroup): number | null {
    let earliest: number | null = null;
    for (const lineId of group.lineIds) {
      const at = this.health.get(lineId)?.nextTransitionAtMs() ?? null;
      if (at !== null && (earliest === null || at < earliest)) earliest = at;
    }
    return earliest;
  }

  /** The line's smoothed answer rate over five minutes, recomputed when it can have changed. */
  answerScore(line: LineRuntime, nowMs: number): number {
    const minute = Math.floor(nowMs / MINUTE_MS);
    if (line.answerScoreMinute !== minute) {
      const { rate, weight } = this.options.prior;
      line.answerScore = this.lineStats.get(line.line.id)?.smoothedAnswerRate(nowMs, 5, rate, weight) ?? rate;
      line.answerScoreMinute = minute;
    }
    return line.answerScore;
  }

  /** The route's line and switch levels at their current rates (slow start, probing share). */
  lineLevel(route: Route, nowMs: number): SlotLevel {
    const line = route.line.line;
    return {
      key: route.line.gate.key,
      capsPerSecond: line.caps * route.line.capsShare * this.warmup(route.line.gate.key, nowMs),
      maxConcurrent: line.maxConcurrent,
    };
  }

  switchLevel(route: Route, nowMs: number): SlotLevel {
    const sw = route.switch.sw;
    return {
      key: route.switch.gate.key,
      capsPerSecond: sw.maxCaps * this.warmup(route.switch.gate.key, nowMs),
      maxConcurrent: sw.maxSessions,
    };
  }

  /** Levels of a call found live after a restart (recovery), from ids alone. */
  levelsById(lineId: string, gatewayId: string, switchId: string, nowMs: number): SlotLevel[] {
    const line = this.lines.get(lineId)?.line;
    const gateway = this.gateways.get(gatewayId)?.gateway;
    const sw = this.switches.get(switchId)?.sw;
    return [
      {
        key: `line:${lineId}`,
        capsPerSecond: line ? line.caps * this.warmup(`line:${lineId}`, nowMs) : null,
        maxConcurrent: line?.maxConcurrent ?? null,
      },
      {
        key: `gateway:${gatewayId}`,
        capsPerSecond: gateway?.maxCaps ?? null,
        maxConcurrent: gateway?.maxConcurrent ?? null,
      },
      {
        key: `switch:${switchId}`,
        capsPerSecond: sw ? sw.maxCaps * this.warmup(`switch:${switchId}`, nowMs) : null,
        maxConcurrent: sw?.maxSessions ?? null,
      },
    ];
  }

  lineById(lineId: string): CoreLine | undefined {
    return this.lines.get(lineId)?.line;
  }

  /** Slow start: 10 % of the CAPS at (re)join, rising linearly to 100 % over the warm-up. */
  warmup(key: string, nowMs: number): number {
    const since = this.joinedAt.get(key);
    if (since === undefined || this.options.warmupMs <= 0) return 1;
    return Math.min(1, Math.max(0.1, (nowMs - since) / this.options.warmupMs));
  }

  // ---- health and answer rates --------------------------------------------------------------

  /** Feeds an outcome to the line's health and the answer rates; returns a health change, if any. */
  recordOutcome(
    outcome: Outcome,
    route: { lineId: string; gatewayId: string },
    nowMs: number,
  ): HealthChange | null {
    const unsettled = this.unsettled.get(route.lineId) ?? 0;
    const change = this.health.get(route.lineId)?.record(outcome, nowMs, unsettled) ?? null;
    windowFor(this.lineStats, route.lineId).record(outcome, nowMs);
    windowFor(this.gatewayStats, route.gatewayId).record(outcome, nowMs);
    const line = this.lines.get(route.lineId);
    if (line) line.answerScoreMinute = Number.NaN;
    return change;
  }

  /** A call was placed on the line; until it settles (answered or ended) its result is unknown. */
  callPlaced(lineId: string): void {
    this.unsettled.set(lineId, (this.unsettled.get(lineId) ?? 0) + 1);
  }

  callSettled(lineId: string): void {
    const n = (this.unsettled.get(lineId) ?? 0) - 1;
    if (n > 0) this.unsettled.set(lineId, n);
    else this.unsettled.delete(lineId);
  }

  setOverride(lineId: string, override: HealthOverride, nowMs: number): HealthChange | null | undefined {
    return this.health.get(lineId)?.setOverride(override, nowMs);
  }

  /** A line's health changed: its admission is read again and, unless ejected, it ramps up anew. */
  healthChanged(lineId: string, change: HealthChange, nowMs: number): void {
    this.version++;
    if (change.to !== 'ejected') this.joinedAt.set(`line:${lineId}`, nowMs);
    const line = this.lines.get(lineId);
    const admission = this.health.get(lineId)?.admission(nowMs);
    if (line && admission) {
      line.usable = admission.usable;
      line.capsShare = admission.capsShare;
    }
  }
}

function windowFor(windows: Map<string, OutcomeWindow>, id: string): OutcomeWindow {
  let window = windows.get(id);
  if (!window) {
    window = new OutcomeWindow();
    windows.set(id, window);
  }
  return window;
}
