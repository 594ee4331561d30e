/**
 * The dispatch core's questions to its dial slots that do not take anything — whether a level
 * would refuse a call now, and why — and what it learns and tells from the answers: a shared
 * limit remembered as closed, a group explained when every route is closed, a tenant's day cap.
 */
import type { DialSlots, SlotLevel } from '../coord/contract.js';
import type { CoreTenant, Hold, LimitDenial } from './core-types.js';
import { FAR_FUTURE } from './parking.js';
import { closedGateOf, type LimitGate, type Route, type RouteGroup, routeOpensAtMs } from './route-groups.js';
import type { Routing } from './routing.js';

export const DAY_MS = 86_400_000;

export function utcDayStart(nowMs: number): number {
  return nowMs - (nowMs % DAY_MS);
}

/** What the day cap needs of a tenant's state. */
interface DailyCount {
  tenant: CoreTenant;
  level: SlotLevel;
  dailyAttempts: number;
  dayStartMs: number;
}

export class LimitChecks {
  /** Explanations built, to list each closed key once in one. */
  private explanations = 0;

  constructor(
    private readonly slots: DialSlots,
    private readonly routing: Routing,
  ) {}

  denialAt(level: SlotLevel, reason: LimitDenial['reason'], retryAtMs: number | null): LimitDenial {
    return {
      level: level.key.slice(0, level.key.indexOf(':')),
      key: level.key,
      reason,
      inFlight: this.slots.inFlight(level.key),
      maxConcurrent: level.maxConcurrent,
      capsPerSecond: level.capsPerSecond,
      retryAtMs,
    };
  }

  /** The refusal a level would give now, checked without acquiring. */
  refusal(level: SlotLevel, nowMs: number): LimitDenial | null {
    if (level.capsPerSecond !== null) {
      const allowedAt = this.slots.paceAllowedAt(level.key, level.capsPerSecond, nowMs);
      if (nowMs < allowedAt) return this.denialAt(level, 'caps', allowedAt);
    }
    if (level.maxConcurrent !== null && this.slots.inFlight(level.key) >= level.maxConcurrent)
      return this.denialAt(level, 'concurrency', null);
    return null;
  }

  /** The tenant's attempts today against its daily cap (a new UTC day starts the count again). */
  dailyRefusal(state: DailyCount, nowMs: number): LimitDenial | null {
    const max = state.tenant.maxDailyAttempts;
    if (max === null) return null;
    const today = utcDayStart(nowMs);
    if (state.dayStartMs !== today) {
      state.dayStartMs = today;
      state.dailyAttempts = 0;
    }
    if (state.dailyAttempts < max) return null;
    return {
      level: 'tenant',
      key: state.level.key,
      reason: 'daily_attempts',
      inFlight: state.dailyAttempts,
      maxConcurrent: max,
      capsPerSecond: null,
      retryAtMs: today + DAY_MS,
    };
  }

  /** Remembers a shared limit as closed (for one round only while it ramps up: its rate rises). */
  closeGate(gate: LimitGate, denial: LimitDenial, nowMs: number, round: number): void {
    const ramping = this.routing.warmup(gate.key, nowMs) < 1;
    gate.close(denial, nowMs, round, ramping);
  }

  /** After a grant: whether the call just taken closed this level, learned now rather than by a failed acquisition. */
  learnClosure(gate: LimitGate, level: SlotLevel, nowMs: number, round: number): void {
    const denial = this.refusal(level, nowMs);
    if (denial) this.closeGate(gate, denial, nowMs, round);
  }

  /** Whether the route at `from` and every route after it in the order are known closed. */
  noneOpen(ordered: readonly Route[], from: number, nowMs: number, round: number): boolean {
    for (let j = from; j < ordered.length; j++)
      if (closedGateOf(ordered[j]!, nowMs, round) === null) return false;
    return true;
  }

  /**
   * Why every usable route is closed — each closed key listed once — and when the first may open
   * (FAR_FUTURE: not before a call ends on one of its keys).
   */
  explainClosed(
    group: RouteGroup,
    usable: readonly Route[],
    callerDenials: ReadonlyMap<Route, LimitDenial> | null,
    nowMs: number,
    round: number,
  ): { hold: Hold; opensAt: number } {
    const listing = ++this.explanations;
    const denials: LimitDenial[] = [];
    let opensAt = Number.POSITIVE_INFINITY;
    for (const route of usable) {
      const gate = closedGateOf(route, nowMs, round);
      if (gate) {
        if (gate.listedIn !== listing) {
          gate.listedIn = listing;
          denials.push(gate.denial!);
        }
        opensAt = Math.min(opensAt, routeOpensAtMs(route, nowMs, round));
      } else {
        const denial = callerDenials!.get(route)!;
        if (!denials.some((d) => d.key === denial.key)) denials.push(denial);
        opensAt = Math.min(opensAt, denial.retryAtMs ?? Number.POSITIVE_INFINITY);
      }
    }
    if (group.overloadEndsAtMs !== null) opensAt = Math.min(opensAt, group.overloadEndsAtMs);
    return { hold: { kind: 'limits', denials }, opensAt: Math.min(opensAt, FAR_FUTURE) };
  }
}
