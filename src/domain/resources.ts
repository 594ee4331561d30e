import type { RetryPolicy } from './retry-policy.js';

/** Calling hours: ISO weekdays (1 = Monday) and local "HH:MM" times, start inclusive, end exclusive. */
export interface CallingSchedule {
  timeZone: string;
  windows: Array<{ days: number[]; start: string; end: string }>;
}

/** How a campaign chooses among the routes that could carry its next call (R3.8). */
export const SELECTION_STRATEGIES = [
  'answer_rate_first',
  'round_robin',
  'random',
  'weighted',
  'least_loaded',
] as const;
export type SelectionStrategy = (typeof SELECTION_STRATEGIES)[number];

/** A FreeSWITCH node, reached over its Event Socket. */
export interface Switch {
  id: string;
  name: string;
  eslHost: string;
  eslPort: number;
  /** Plaintext only in memory; sealed at rest. */
  eslPassword: string;
  maxSessions: number;
  maxCaps: number;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
  version: number;
}

/** A SIP trunk as configured in FreeSWITCH (`sofia/gateway/<name>`), present on one or more switches. */
export interface Gateway {
  id: string;
  name: string;
  switchIds: string[];
  maxCaps: number | null;
  maxConcurrent: number | null;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export const NUMBER_FORMATS = ['e164', 'national'] as const;
export type NumberFormat = (typeof NUMBER_FORMATS)[number];

/** A carrier route through a gateway, with its own pace and concurrency caps (R3.4). */
export interface Line {
  id: string;
  name: string;
  gatewayId: string;
  /** e.g. `sofia/gateway/{gateway}/{number}`: only the two placeholders, validated before use. */
  dialTemplate: string;
  numberFormat: NumberFormat;
  /** Caller ids presented on this line, used in turn; empty = the campaign's. */
  callerIds: string[];
  caps: number;
  maxConcurrent: number;
  /** Share of traffic under the `weighted` selection strategy. */
  weight: number;
  /** The carrier's limits per presented caller id, when it has them. */
  callerIdCaps: number | null;
  callerIdMaxConcurrent: number | null;
  /** The operator forced the line in or out of service; null = automatic health (R3.10). */
  healthOverride: 'in' | 'out' | null;
  /** Exclusive to one tenant, or shared by all when null (R3.1). */
  tenantId: string | null;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export const CAMPAIGN_STATUSES = ['active', 'paused', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export interface Campaign {
  id: string;
  tenantId: string;
  name: string;
  status: CampaignStatus;
  /** Share of dispatch relative to the tenant's other campaigns. */
  weight: number;
  /** The lines it may use; empty = every line lent to its tenant. */
  lineIds: string[];
  /** Region used to read numbers written without a country code. */
  defaultRegion: string | null;
  callerId: string | null;
  retryPolicy: RetryPolicy;
  ringTimeoutSec: number;
  maxCallDurationSec: number;
  caps: number | null;
  maxConcurrent: number | null;
  /** Calling hours in a time zone; tasks are held outside them. Null = any time. */
  schedule: CallingSchedule | null;
  /** How the campaign chooses among its lines and switches (R3.8). */
  selectionStrategy: SelectionStrategy;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export interface Tenant {
  id: string;
  name: string;
  createdAt: number;
}
