/**
 * Route groups: campaigns that may use the same lines share one list of routes (line × switch), one
 * memory of which limits are closed, and one queue of waiters. This is what keeps a saturated pool
 * cheap (docs/benchmarks.md, finding 1): a pace opening or a freed slot wakes one waiter — the one
 * fair queuing would serve first — instead of every campaign of the pool.
 */
import type { SlotLevel } from '../coord/contract.js';
import type { CoreGateway, CoreLine, CoreSwitch, Hold, LimitDenial } from './core-types.js';
import { GroupWaiters, type WaitingCampaign, type WaitingTenant } from './fair-order.js';
import type { RouteCandidate } from './route-selection.js';

/**
 * What the core has learned about one shared limit (a line, gateway or switch key): closed by its
 * pace until `closedUntilMs`, or by concurrency until a call on it ends (`Infinity`). Pace only
 * grows stricter as grants are added, so a learned opening time holds until the key's rate rises —
 * which is why a rate change (health, resources) forgets everything, and why what is learned about
 * a key still ramping up (slow start) holds for one decision round only.
 */
export class LimitGate {
  closedUntilMs = Number.NEGATIVE_INFINITY;
  denial: LimitDenial | null = null;
  /** The round the closure was learned in, when it holds for that round only; null: until it passes. */
  onlyInRound: number | null = null;
  /** The last explanation that listed this key's denial (to list it once). */
  listedIn = 0;
  /** Groups with a route through this key: poked when a call ending on it reopens it. */
  readonly groups: RouteGroup[] = [];

  constructor(readonly key: string) {}

  isClosed(nowMs: number, round: number): boolean {
    return this.closedUntilMs > nowMs && (this.onlyInRound === null || this.onlyInRound === round);
  }

  close(denial: LimitDenial, nowMs: number, round: number, volatile: boolean): void {
    this.denial = denial;
    this.closedUntilMs =
      denial.reason === 'concurrency' ? Number.POSITIVE_INFINITY : (denial.retryAtMs ?? nowMs);
    this.onlyInRound = volatile ? round : null;
  }

  forget(): void {
    this.closedUntilMs = Number.NEGATIVE_INFINITY;
    this.denial = null;
    this.onlyInRound = null;
  }

  /** Closed until a release (not by time). */
  get waitsForRelease(): boolean {
    return this.closedUntilMs === Number.POSITIVE_INFINITY;
  }
}

export interface LineRuntime {
  line: CoreLine;
  gate: LimitGate;
  /** Health admission, kept until the line's health changes. */
  usable: boolean;
  capsShare: number;
  /** Smoothed answer rate, kept until an outcome is recorded or the minute turns. */
  answerScore: number;
  answerScoreMinute: number;
}

export interface GatewayRuntime {
  gateway: CoreGateway;
  gate: LimitGate;
  level: SlotLevel;
}

export interface SwitchRuntime {
  sw: CoreSwitch;
  gate: LimitGate;
  /** Reachable and enabled, and not overloaded — as of `factsRound`. */
  usable: boolean;
  /** When overloaded: when its heartbeat goes stale and it is trusted again. */
  overloadEndsAtMs: number | null;
  factsRound: number;
}

/** One way to carry a call; the RouteCandidate fields are refreshed when it is offered for a decision. */
export interface Route extends RouteCandidate {
  readonly line: LineRuntime;
  readonly gateway: GatewayRuntime;
  readonly switch: SwitchRuntime;
  capsShare: number;
}

export interface GroupTenant extends WaitingTenant {}
export interface GroupCampaign extends WaitingCampaign<GroupTenant> {}

export class RouteGroup {
  /**
   * Whether a decision may find a route open. Cleared when a decision finds every route closed —
   * the group then waits for its timer (the earliest learned opening) or for a call ending on one
   * of its keys — and set again by either, or when anything about the routes changes.
   */
  open = true;
  /** Campaigns woken from this group and not yet decided: while one is, no other is woken. */
  pending = 0;
  /** Bumped at every close: a timer of an older close is stale. */
  closeGeneration = 0;
  /** Why it is closed (every waiter held by routes shares it). */
  hold: Hold | null = null;
  readonly waiters = new GroupWaiters<GroupTenant, GroupCampaign>();
  /** Replaced after a change of resources; its timers and waiters are then stale. */
  retired = false;
  /** Its routes usable apart from their limits, as of `usableVersion` and until `usableUntilMs`. */
  usable: Route[] = [];
  usableVersion = -1;
  usableUntilMs = Number.NEGATIVE_INFINITY;
  /** When a switch it leaves out as overloaded will be trusted again (its heartbeat goes stale). */
  overloadEndsAtMs: number | null = null;

  constructor(
    readonly signature: string,
    readonly lineIds: readonly string[],
    readonly routes: readonly Route[],
  ) {}

  close(hold: Hold): void {
    this.open = false;
    this.hold = hold;
    this.closeGeneration++;
  }
}

/** Lines a campaign of this tenant may use, in the campaign's order (empty list: every line lent to it). */
export function eligibleLineIds(
  campaignLineIds: readonly string[],
  tenantId: string,
  lines: ReadonlyMap<string, LineRuntime>,
): string[] {
  const ids = campaignLineIds.length > 0 ? campaignLineIds : [...lines.keys()];
  return ids.filter((id) => {
    const line = lines.get(id)?.line;
    return line !== undefined && (line.tenantId === null || line.tenantId === tenantId);
  });
}

/** Builds the routes of a group: each line × each switch of its gateway, in the lines' order. */
export function buildRoutes(
  lineIds: readonly string[],
  lines: ReadonlyMap<string, LineRuntime>,
  gateways: ReadonlyMap<string, GatewayRuntime>,
  switches: ReadonlyMap<string, SwitchRuntime>,
): Route[] {
  const routes: Route[] = [];
  for (const lineId of lineIds) {
    const line = lines.get(lineId)!;
    const gateway = gateways.get(line.line.gatewayId);
    if (!gateway) continue;
    for (const switchId of gateway.gateway.switchIds) {
      const sw = switches.get(switchId);
      if (!sw) continue;
      routes.push({
        line,
        gateway,
        switch: sw,
        lineId,
        switchId,
        weight: line.line.weight,
        lineLoad: 0,
        switchLoad: 0,
        answerScore: 0,
        capsShare: 1,
      });
    }
  }
  return routes;
}

/** The first closed key of a route, in the order acquisition checks them. */
export function closedGateOf(route: Route, nowMs: number, round: number): LimitGate | null {
  if (route.line.gate.isClosed(nowMs, round)) return route.line.gate;
  if (route.gateway.gate.isClosed(nowMs, round)) return route.gateway.gate;
  if (route.switch.gate.isClosed(nowMs, round)) return route.switch.gate;
  return null;
}

/** When a route may open by what is known of its keys (Infinity: not before a call ends on one). */
export function routeOpensAtMs(route: Route, nowMs: number, round: number): number {
  return Math.max(
    closedUntil(route.line.gate, nowMs, round),
    closedUntil(route.gateway.gate, nowMs, round),
    closedUntil(route.switch.gate, nowMs, round),
  );
}

function closedUntil(gate: LimitGate, nowMs: number, round: number): number {
  return gate.isClosed(nowMs, round) ? gate.closedUntilMs : Number.NEGATIVE_INFINITY;
}
