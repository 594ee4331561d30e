import type { CallingSchedule, SelectionStrategy } from '../domain/resources.js';

/**
 * What the dispatch core knows of the platform. Plain data, refreshed by the loop around it from
 * the store and the workers; the core itself does no I/O.
 */
export interface CoreTenant {
  id: string;
  /** Share of dispatch against the other tenants. */
  weight: number;
  maxCaps: number | null;
  maxConcurrent: number | null;
  /** Attempts per UTC day across the tenant's campaigns (a fraud guard); null = no cap. */
  maxDailyAttempts: number | null;
}

export interface CoreCampaign {
  id: string;
  tenantId: string;
  /** Share of dispatch against the tenant's other campaigns. */
  weight: number;
  /** Empty = every line lent to the tenant. */
  lineIds: string[];
  caps: number | null;
  maxConcurrent: number | null;
  schedule: CallingSchedule | null;
  strategy: SelectionStrategy;
  callerId: string | null;
  /** A lease lives this long unless the call ends first (ring timeout + max duration + grace). */
  leaseTtlMs: number;
}

export interface CoreLine {
  id: string;
  gatewayId: string;
  /** Exclusive to a tenant, or shared when null (R3.1). */
  tenantId: string | null;
  enabled: boolean;
  caps: number;
  maxConcurrent: number;
  weight: number;
  /** Caller ids presented on this line, used in turn. */
  callerIds: string[];
  /** The carrier's limits per caller id number, when it has them. */
  callerIdCaps: number | null;
  callerIdMaxConcurrent: number | null;
}

export interface CoreGateway {
  id: string;
  switchIds: string[];
  enabled: boolean;
  maxCaps: number | null;
  maxConcurrent: number | null;
}

export interface CoreSwitch {
  id: string;
  enabled: boolean;
  maxCaps: number;
  maxSessions: number;
}

/** A switch's live load, from its HEARTBEAT (R2.4, R3.5). */
export interface SwitchLoad {
  sessionCount: number;
  maxSessions: number;
  idleCpuPercent: number | undefined;
  atMs: number;
}

export interface OverloadPolicy {
  /** A switch whose sessions reach this share of its max-sessions takes no new call. */
  maxSessionShare: number;
  /** …nor one whose idle CPU falls below this, in percent. */
  minIdleCpuPercent: number;
  /** A heartbeat older than this is not trusted either way. */
  staleAfterMs: number;
}

export const DEFAULT_OVERLOAD_POLICY: OverloadPolicy = {
  maxSessionShare: 0.9,
  minIdleCpuPercent: 10,
  staleAfterMs: 60_000,
};

/** A task the core handed out, with every slot already held under `attemptId`. */
export interface Dispatch<T> {
  attemptId: string;
  campaignId: string;
  tenantId: string;
  task: T;
  lineId: string;
  gatewayId: string;
  switchId: string;
  callerId: string | null;
  atMs: number;
}

export interface LimitDenial {
  level: string;
  key: string;
  reason: 'caps' | 'concurrency' | 'daily_attempts';
  inFlight: number;
  maxConcurrent: number | null;
  capsPerSecond: number | null;
  retryAtMs: number | null;
}

export type RouteProblem =
  | { kind: 'no_lines' }
  | { kind: 'line_disabled'; lineId: string }
  | { kind: 'line_ejected'; lineId: string; state: string; reason: string }
  | { kind: 'gateway_disabled'; gatewayId: string }
  | { kind: 'switch_unreachable'; switchId: string }
  | {
      kind: 'switch_overloaded';
      switchId: string;
      sessionCount: number;
      maxSessions: number;
      idleCpuPercent: number | undefined;
    };

/** Why a campaign is not dialing right now ("why isn't it dialing?"), with the numbers behind it. */
export type Hold =
  | { kind: 'not_active' }
  | { kind: 'outside_window'; nextOpeningAtMs: number | null }
  | { kind: 'no_due_tasks'; queued: number; nextDueAtMs: number | null }
  | { kind: 'no_route'; problems: RouteProblem[] }
  | { kind: 'limits'; denials: LimitDenial[] };
