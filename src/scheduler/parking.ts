/**
 * Where campaigns wait when they cannot dial, and who is woken when (ARCHITECTURE: scheduler/).
 *
 * A campaign is ready (in its tenant's heap, tenants in a heap by pass) or parked: on a timer
 * (nothing due, outside its hours, its own pace), on a freed key (its own concurrency, a caller
 * id's), or in its route group. A group that found every route closed is opened again by its timer
 * (the earliest learned opening) or by a call ending on one of its keys, and then wakes one waiter
 * — the first in fair order among tenants not blocked by their own limits; the next only once that
 * one has been decided. Wakes from groups wait for the next decision, so that everything that
 * happened at one instant (timers, freed keys) is applied before anyone is chosen.
 */
import type { QueuedTask } from './campaign-queue.js';
import type { CampaignState, Lease, TenantState, Timer } from './core-state.js';
import type { Hold, LimitDenial } from './core-types.js';
import { LowestPass } from './fair-order.js';
import { MinHeap } from './heap.js';
import type { RouteGroup } from './route-groups.js';
import type { Routing } from './routing.js';

export const FAR_FUTURE = Number.MAX_SAFE_INTEGER;

export function byPass<S extends { pass: number; id: string }>(a: S, b: S): boolean {
  return a.pass < b.pass || (a.pass === b.pass && a.id < b.id);
}

export class Parking<T extends QueuedTask> {
  /** Tenants with a ready campaign, by pass. */
  readonly readyTenants = new MinHeap<TenantState<T>>(byPass);
  /** Tenants with a competing campaign, by pass (the reference for a tenant back from idle). */
  private readonly competingTenants = new LowestPass<TenantState<T>>();
  private readonly timers = new MinHeap<Timer<T>>((a, b) => a.atMs < b.atMs);
  /** Campaigns parked on their own concurrency (or a caller id's) until a call on the key ends. */
  private readonly waitingOnKey = new Map<
    string,
    Array<{ campaign: CampaignState<T>; generation: number }>
  >();
  /** Tenants whose own limits may have opened; released by `releaseUnblocked`. */
  private readonly toUnblock: TenantState<T>[] = [];
  /** Groups that may have room, woken at the next decision (see `mayWake`). */
  private readonly groupsToWake = new Set<RouteGroup>();

  constructor(
    private readonly campaigns: ReadonlyMap<string, CampaignState<T>>,
    private readonly tenants: ReadonlyMap<string, TenantState<T>>,
    private readonly routing: Routing,
    /** The refusal the tenant's own level would give now, if any. */
    private readonly tenantDenial: (tenant: TenantState<T>, nowMs: number) => LimitDenial | null,
  ) {}

  /** Whether a decision now may dispatch something. */
  hasWork(): boolean {
    return this.readyTenants.size > 0 || this.groupsToWake.size > 0;
  }

  /** The earliest time a parked campaign may become able to dial (for the loop's sleep). */
  nextWakeAtMs(): number | null {
    for (;;) {
      const top = this.timers.peek();
      if (!top) return null;
      if (this.isLive(top)) return top.atMs;
      this.timers.pop();
    }
  }

  /** The tenant's limits may have opened: checked at the next `releaseUnblocked`. */
  unblockLater(tenant: TenantState<T>): void {
    this.toUnblock.push(tenant);
  }

  private park(state: CampaignState<T>, hold: Hold, competing: boolean): void {
    state.ready = false;
    state.hold = hold;
    state.parkGeneration++;
    this.setCompeting(state, competing);
  }

  /** Parked for lack of work (nothing due, outside hours, daily cap): it re-enters as from idle. */
  parkIdle(state: CampaignState<T>, hold: Hold, untilMs: number): void {
    this.park(state, hold, false);
    this.addTimer(state, untilMs);
  }

  /** Parked on its own limits until `untilMs` or until a call on one of `keys` ends. */
  parkAlone(state: CampaignState<T>, hold: Hold, untilMs: number, keys: string[]): void {
    this.park(state, hold, true);
    this.addTimer(state, untilMs);
    for (const key of keys) {
      let waiting = this.waitingOnKey.get(key);
      if (!waiting) {
        waiting = [];
        this.waitingOnKey.set(key, waiting);
      }
      waiting.push({ campaign: state, generation: state.parkGeneration });
    }
  }

  /** Waits in its route group, to be woken in fair order when the group (and its tenant) opens. */
  parkInGroup(state: CampaignState<T>, hold: Hold): void {
    this.park(state, hold, true);
    const { group } = state;
    const queue = group.waiters.add(state);
    state.waitingIn = { group, queue };
    state.tenant.queues.set(group, queue);
  }

  /** A parked campaign may go sooner: it is also woken at `atMs` (whichever comes first). */
  wakeAtMs(state: CampaignState<T>, atMs: number): void {
    if (!state.ready) this.addTimer(state, atMs);
  }

  /** A closed group may reopen sooner: it also opens at `atMs` (whichever comes first). */
  openAtMs(group: RouteGroup, atMs: number): void {
    if (group.open || group.retired) return;
    this.timers.push({ kind: 'group', group, atMs, generation: group.closeGeneration });
  }

  private addTimer(state: CampaignState<T>, atMs: number): void {
    if (atMs < FAR_FUTURE)
      this.timers.push({ kind: 'campaign', campaign: state, atMs, generation: state.parkGeneration });
  }

  leaveGroup(state: CampaignState<T>): void {
    if (!state.waitingIn) return;
    state.waitingIn.group.waiters.left(state.waitingIn.queue);
    state.waitingIn = null;
  }

  setCompeting(state: CampaignState<T>, competing: boolean): void {
    if (state.competing === competing) return;
    state.competing = competing;
    const { tenant } = state;
    if (competing) {
      tenant.competing.add(state);
      if (tenant.competing.size === 1) this.competingTenants.add(tenant);
    } else {
      tenant.competing.remove(state);
      if (tenant.competing.size === 0) this.competingTenants.remove(tenant);
    }
  }

  /**
   * Back into the ready heaps. Only a return from *idle* (nothing due, outside calling hours,
   * the day's cap reached) moves a campaign or tenant forward — to the lowest pass among those
   * still competing — so idling earns no burst. A return from a wait on limits keeps its pass:
   * it was held back by the very resources its competitors share, and moving it to a pass set
   * elsewhere (another, busier pool) would starve it.
   */
  wake(state: CampaignState<T>, _nowMs: number, from: RouteGroup | null): void {
    if (state.ready) return;
    this.leaveGroup(state);
    const { tenant } = state;
    const fromIdle = !state.competing;
    if (fromIdle) state.pass = Math.max(state.pass, tenant.competing.lowest() ?? tenant.virtualTime);
    if (!tenant.inHeap && fromIdle && tenant.competing.size === 0)
      tenant.pass = Math.max(tenant.pass, this.competingTenants.lowest() ?? tenant.pass);
    state.ready = true;
    state.parkGeneration++;
    this.setCompeting(state, true);
    tenant.ready.push(state);
    if (!tenant.inHeap) {
      this.readyTenants.push(tenant);
      tenant.inHeap = true;
    }
    state.wokenFrom = from;
    if (from) from.pending++;
  }

  /** Wakes the group's first waiter in fair order, if any may go. */
  wakeNext(group: RouteGroup, nowMs: number): void {
    if (group.retired) return;
    const next = group.waiters.takeNext();
    if (!next) return;
    const state = this.campaigns.get(next.id)!;
    state.waitingIn = null;
    this.wake(state, nowMs, group);
  }

  closeGroup(group: RouteGroup, hold: Hold, opensAtMs: number): void {
    group.close(hold);
    if (opensAtMs < FAR_FUTURE)
      this.timers.push({ kind: 'group', group, atMs: opensAtMs, generation: group.closeGeneration });
  }

  openGroup(group: RouteGroup): void {
    if (group.retired) return;
    if (!group.open) {
      group.open = true;
      group.closeGeneration++;
    }
    this.mayWake(group);
  }

  /**
   * The group may have room: one waiter is woken at the next decision, once every timer and
   * freed key of that instant has been applied — so that a tenant whose own pace reopens at the
   * same instant as a line is among the candidates, and the first in fair order gets the line.
   */
  mayWake(group: RouteGroup): void {
    if (group.open && !group.retired) this.groupsToWake.add(group);
  }

  wakeGroups(nowMs: number): void {
    if (this.groupsToWake.size === 0) return;
    for (const group of this.groupsToWake) {
      if (group.open && !group.retired && group.pending === 0) this.wakeNext(group, nowMs);
    }
    this.groupsToWake.clear();
  }

  blockTenant(tenant: TenantState<T>, denial: LimitDenial): void {
    const until =
      denial.reason === 'concurrency' ? Number.POSITIVE_INFINITY : (denial.retryAtMs ?? FAR_FUTURE);
    if (tenant.blocked && tenant.blockedUntilMs === until) return;
    tenant.blocked = true;
    tenant.blockedUntilMs = until;
    tenant.blockGeneration++;
    if (until < FAR_FUTURE)
      this.timers.push({ kind: 'tenant', tenant, atMs: until, generation: tenant.blockGeneration });
  }

  /**
   * Tenants whose limits may have opened (checked again, unless `nowMs` is unknown): their waiting
   * campaigns are candidates again in every group.
   */
  releaseUnblocked(nowMs: number): void {
    while (this.toUnblock.length > 0) {
      const tenant = this.toUnblock.pop()!;
      if (!tenant.blocked) continue;
      const still = Number.isFinite(nowMs) ? this.tenantDenial(tenant, nowMs) : null;
      if (still) {
        this.blockTenant(tenant, still);
        continue;
      }
      tenant.blocked = false;
      tenant.blockGeneration++;
      for (const [group, queue] of tenant.queues) {
        if (group.retired) {
          tenant.queues.delete(group);
          continue;
        }
        group.waiters.requeue(queue);
        this.mayWake(group);
      }
    }
  }

  /** Everything parked is woken (the resources were replaced). */
  wakeAll(nowMs: number): void {
    this.routing.forgetLimits();
    for (const tenant of this.tenants.values()) this.toUnblock.push(tenant);
    this.releaseUnblocked(nowMs);
    for (const state of this.campaigns.values()) if (!state.ready) this.wake(state, nowMs, null);
  }

  /**
   * Something about the routes changed (a line's health, a switch back or no longer overloaded):
   * what was learned of closed limits is forgotten, every group may look again (one waiter each,
   * then one more per dispatch), and campaigns waiting on their own for a caller id are woken.
   */
  reopenRoutes(nowMs: number): void {
    this.routing.forgetLimits();
    for (const group of this.routing.allGroups()) this.openGroup(group);
    for (const state of this.campaigns.values()) {
      if (!state.ready && state.competing && !state.waitingIn) this.wake(state, nowMs, null);
    }
  }

  /** A call's slots were freed: whatever waited on one of its keys may go. */
  onReleased(lease: Lease, nowMs: number): void {
    for (const key of lease.keys) {
      const waiting = this.waitingOnKey.get(key);
      if (waiting) {
        this.waitingOnKey.delete(key);
        for (const { campaign, generation } of waiting) {
          if (!campaign.ready && campaign.parkGeneration === generation) this.wake(campaign, nowMs, null);
        }
      }
      const gate = this.routing.gateOf(key);
      if (gate?.waitsForRelease) {
        gate.forget();
        // Every group through it may look again, waiters or not: one that arrives later must not
        // find the group still closed on a limit that has since been freed.
        for (const group of gate.groups) this.openGroup(group);
      }
    }
    const tenant = this.tenants.get(lease.tenantId);
    if (tenant?.blocked && tenant.blockedUntilMs === Number.POSITIVE_INFINITY) {
      this.toUnblock.push(tenant);
      this.releaseUnblocked(nowMs);
    }
  }

  private isLive(timer: Timer<T>): boolean {
    switch (timer.kind) {
      case 'campaign':
        return !timer.campaign.ready && timer.campaign.parkGeneration === timer.generation;
      case 'tenant':
        return timer.tenant.blocked && timer.tenant.blockGeneration === timer.generation;
      case 'group':
        return !timer.group.retired && !timer.group.open && timer.group.closeGeneration === timer.generation;
    }
  }

  runTimers(nowMs: number): void {
    for (;;) {
      const top = this.timers.peek();
      if (!top || top.atMs > nowMs) break;
      this.timers.pop();
      if (!this.isLive(top)) continue;
      if (top.kind === 'campaign') this.wake(top.campaign, nowMs, null);
      else if (top.kind === 'tenant') this.toUnblock.push(top.tenant);
      else this.openGroup(top.group);
    }
    this.releaseUnblocked(nowMs);
  }
}
