/**
 * Orderings for weighted fair queuing whose keys (passes) only ever grow: the lowest pass among a
 * changing set of competitors, and the fair order of campaigns waiting on a shared route group.
 *
 * Both are lazy heaps: an entry keeps the pass it had when it was pushed, and one whose owner has
 * moved on since (served: a higher pass; left: a newer generation) is refreshed or dropped when it
 * reaches the top. Because passes never fall, a top entry whose snapshot is current is the true
 * minimum. Every operation is O(log n) amortized; nothing scans all campaigns or tenants.
 */
import { MinHeap } from './heap.js';

/** The lowest pass among members; members join and leave, and their passes grow while in. */
export class LowestPass<S extends { pass: number }> {
  private readonly entries = new MinHeap<{ member: S; pass: number; generation: number }>(
    (a, b) => a.pass < b.pass,
  );
  private readonly generations = new Map<S, number>();
  private nextGeneration = 0;

  get size(): number {
    return this.generations.size;
  }

  add(member: S): void {
    if (this.generations.has(member)) return;
    const generation = this.nextGeneration++;
    this.generations.set(member, generation);
    this.entries.push({ member, pass: member.pass, generation });
    // Entries of members that left stay until they surface; keep them from piling up.
    if (this.entries.size > 2 * this.generations.size + 64) this.compact();
  }

  remove(member: S): void {
    this.generations.delete(member);
  }

  /** The lowest current pass among members, or undefined when there are none. */
  lowest(): number | undefined {
    for (;;) {
      const top = this.entries.peek();
      if (!top) return undefined;
      if (this.generations.get(top.member) !== top.generation) {
        this.entries.pop();
        continue;
      }
      if (top.pass === top.member.pass) return top.pass;
      this.entries.pop();
      this.entries.push({ member: top.member, pass: top.member.pass, generation: top.generation });
    }
  }

  private compact(): void {
    const live = [...this.generations];
    this.entries.removeWhere(() => true);
    for (const [member, generation] of live) this.entries.push({ member, pass: member.pass, generation });
  }
}

/** What the waiting structures need to know of a tenant. */
export interface WaitingTenant {
  readonly id: string;
  pass: number;
  /** Its own limits (CAPS, concurrency) are closed: its campaigns are passed over until they open. */
  blocked: boolean;
}

/** What the waiting structures need to know of a campaign. */
export interface WaitingCampaign<Tn extends WaitingTenant> {
  readonly id: string;
  pass: number;
  /** Bumped at every park and wake: an entry with an older one is stale. */
  parkGeneration: number;
  readonly tenant: Tn;
}

interface Entry<C> {
  campaign: C;
  generation: number;
  pass: number;
}

/** One tenant's campaigns waiting on one group, lowest pass first. A waiting campaign's pass is fixed. */
export class TenantWaiters<Tn extends WaitingTenant, C extends WaitingCampaign<Tn>> {
  private readonly heap = new MinHeap<Entry<C>>(
    (a, b) => a.pass < b.pass || (a.pass === b.pass && a.campaign.id < b.campaign.id),
  );
  /** Campaigns waiting here now (entries that are not stale). */
  live = 0;
  /** Whether this queue has an entry in its group's tenant heap. */
  queued = false;

  constructor(readonly tenant: Tn) {}

  push(campaign: C): void {
    this.heap.push({ campaign, generation: campaign.parkGeneration, pass: campaign.pass });
    this.live++;
  }

  /** The first campaign still waiting here, after dropping stale entries. */
  peek(): C | undefined {
    for (;;) {
      const top = this.heap.peek();
      if (!top) return undefined;
      if (top.generation === top.campaign.parkGeneration) return top.campaign;
      this.heap.pop();
    }
  }

  pop(): C | undefined {
    const campaign = this.peek();
    if (campaign) {
      this.heap.pop();
      this.live--;
    }
    return campaign;
  }

  /** Lowest pass of a campaign still waiting here. */
  lowestPass(): number | undefined {
    return this.peek()?.pass;
  }
}

/**
 * Campaigns waiting on one route group, in the order weighted fair queuing would serve them: the
 * tenant with the lowest pass first, then its campaign with the lowest pass. Tenants whose own
 * limits are closed are passed over (they come back with `requeue` when their limits open).
 */
export class GroupWaiters<Tn extends WaitingTenant, C extends WaitingCampaign<Tn>> {
  private readonly tenants = new MinHeap<{ queue: TenantWaiters<Tn, C>; pass: number }>(
    (a, b) => a.pass < b.pass || (a.pass === b.pass && a.queue.tenant.id < b.queue.tenant.id),
  );
  readonly byTenant = new Map<Tn, TenantWaiters<Tn, C>>();
  /** Campaigns waiting here now. */
  live = 0;

  add(campaign: C): TenantWaiters<Tn, C> {
    let queue = this.byTenant.get(campaign.tenant);
    if (!queue) {
      queue = new TenantWaiters<Tn, C>(campaign.tenant);
      this.byTenant.set(campaign.tenant, queue);
    }
    queue.push(campaign);
    this.live++;
    this.requeue(queue);
    return queue;
  }

  /** A campaign counted in `live` stopped waiting (woken by something else); its entry goes stale. */
  left(queue: TenantWaiters<Tn, C>): void {
    queue.live--;
    this.live--;
  }

  /** Puts a tenant's queue back among the candidates (after its limits opened). */
  requeue(queue: TenantWaiters<Tn, C>): void {
    if (queue.queued || queue.tenant.blocked || queue.live === 0) return;
    queue.queued = true;
    this.tenants.push({ queue, pass: queue.tenant.pass });
  }

  /** Takes the campaign fair queuing would serve first among those whose tenant is not blocked. */
  takeNext(): C | undefined {
    for (;;) {
      const top = this.tenants.peek();
      if (!top) return undefined;
      const { queue } = top;
      if (queue.tenant.blocked || queue.peek() === undefined) {
        this.tenants.pop();
        queue.queued = false;
        continue;
      }
      if (top.pass !== queue.tenant.pass) {
        this.tenants.pop();
        this.tenants.push({ queue, pass: queue.tenant.pass });
        continue;
      }
      const campaign = queue.pop()!;
      this.live--;
      return campaign;
    }
  }
}
