import type { Clock, LeaderLease, LeaseHolder } from './cluster-contract.js';
import { requireId, requireToken, requireTtlMs } from './coord-errors.js';

/** The leader lease in one process's memory: the same rules as `lua/leader-*.lua`. */
export class MemoryLeaderLease implements LeaderLease {
  private readonly leases = new Map<string, LeaseHolder>();
  /** The highest token ever handed out per scope (the Redis `fence` key). */
  private readonly fences = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  async acquire(scope: string, holderId: string, ttlMs: number, floorToken: number): Promise<number | null> {
    requireId('holderId', holderId);
    requireToken('floorToken', floorToken);
    const ttl = requireTtlMs(ttlMs);
    const nowMs = this.clock();
    const held = this.heldAt(scope, nowMs);
    if (held !== null) {
      if (held.holderId !== holderId) return null;
      held.expiresAtMs = nowMs + ttl;
      return held.token;
    }
    const token = Math.max(this.fences.get(scope) ?? 0, floorToken) + 1;
    this.fences.set(scope, token);
    this.leases.set(scope, { holderId, token, expiresAtMs: nowMs + ttl });
    return token;
  }

  async renew(scope: string, holderId: string, token: number, ttlMs: number): Promise<boolean> {
    const ttl = requireTtlMs(ttlMs);
    const nowMs = this.clock();
    const held = this.heldAt(scope, nowMs);
    if (held === null || held.holderId !== holderId || held.token !== token) return false;
    held.expiresAtMs = nowMs + ttl;
    return true;
  }

  async release(scope: string, holderId: string, token: number): Promise<void> {
    const held = this.leases.get(scope);
    if (held !== undefined && held.holderId === holderId && held.token === token) this.leases.delete(scope);
  }

  async current(scope: string): Promise<LeaseHolder | null> {
    const held = this.heldAt(scope, this.clock());
    return held === null ? null : { ...held };
  }

  private heldAt(scope: string, nowMs: number): LeaseHolder | null {
    const held = this.leases.get(scope);
    return held !== undefined && held.expiresAtMs > nowMs ? held : null;
  }
}
