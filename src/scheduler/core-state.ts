/** What the dispatch core keeps per tenant and per campaign (internal to the core). */
import type { SlotLevel } from '../coord/contract.js';
import type { CampaignQueue, QueuedTask } from './campaign-queue.js';
import type { CoreCampaign, CoreTenant, Hold } from './core-types.js';
import type { LowestPass, TenantWaiters } from './fair-order.js';
import type { MinHeap } from './heap.js';
import type { GroupCampaign, GroupTenant, RouteGroup } from './route-groups.js';

export interface TenantState<T extends QueuedTask> extends GroupTenant {
  readonly id: string;
  tenant: CoreTenant;
  /** Its own level, as every acquisition of its campaigns passes it. */
  level: SlotLevel;
  /** Attempts dispatched in the UTC day starting at `dayStartMs`. */
  dailyAttempts: number;
  dayStartMs: number;
  pass: number;
  /** Pass of the last campaign served: the reference when no campaign of the tenant competes. */
  virtualTime: number;
  ready: MinHeap<CampaignState<T>>;
  /** In the core's heap of ready tenants. */
  inHeap: boolean;
  campaigns: Set<CampaignState<T>>;
  /** Its campaigns that compete (ready, or waiting on limits or routes), by pass. */
  competing: LowestPass<CampaignState<T>>;
  /**
   * Its own CAPS or concurrency is closed: its campaigns that wait in route groups are passed over
   * until the timer (`blockGeneration`) fires or one of its calls ends.
   */
  blocked: boolean;
  blockedUntilMs: number;
  blockGeneration: number;
  /** Its queue of waiters in each route group it waits on. */
  queues: Map<RouteGroup, TenantWaiters<GroupTenant, GroupCampaign>>;
}

export interface CampaignState<T extends QueuedTask> extends GroupCampaign {
  readonly id: string;
  campaign: CoreCampaign;
  readonly tenant: TenantState<T>;
  level: SlotLevel;
  queue: CampaignQueue<T>;
  pass: number;
  cursor: number;
  callerCursor: number;
  /** In its tenant's ready heap; otherwise parked (on a timer, a freed key, or in its route group). */
  ready: boolean;
  /** Ready, or waiting on limits or routes — as opposed to idle (nothing due, outside hours, daily cap). */
  competing: boolean;
  parkGeneration: number;
  hold: Hold | null;
  /** The campaigns that may use the same lines share this. */
  group: RouteGroup;
  /** Where it waits in its group, if it does. */
  waitingIn: { group: RouteGroup; queue: TenantWaiters<GroupTenant, GroupCampaign> } | null;
  /** The group that woke it to take an opening, until it has been decided. */
  wokenFrom: RouteGroup | null;
}

export interface Lease {
  keys: string[];
  /** The levels as granted (their CAPS at the time), to read their pace again when the call is sent. */
  levels: readonly SlotLevel[];
  campaignId: string;
  tenantId: string;
  lineId: string;
  /**
   * Whether the call has said what it will tell the line's health (answered, or ended). Until it
   * has, it counts among the line's unsettled calls: at a saturated start, fast failures settle in
   * a second while answers come after ringing, so a young window must not be read as the line's rate.
   */
  settled: boolean;
}

export type Timer<T extends QueuedTask> = { atMs: number; generation: number } & (
  | { kind: 'campaign'; campaign: CampaignState<T> }
  | { kind: 'tenant'; tenant: TenantState<T> }
  | { kind: 'group'; group: RouteGroup }
);
