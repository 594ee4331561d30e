import type { Clock, LiveMember, Membership } from './cluster-contract.js';
import { requireId, requireTtlMs } from './coord-errors.js';

/** Membership in one process's memory: the same rules as `lua/members-*.lua`. */
export class MemoryMembership implements Membership {
  private readonly roles = new Map<string, Map<string, LiveMember>>();

  constructor(private readonly clock: Clock) {}

  async heartbeat(
    role: string,
    memberId: string,
    ttlMs: number,
    info: Record<string, string>,
  ): Promise<void> {
    requireId('role', role);
    requireId('memberId', memberId);
    const ttl = requireTtlMs(ttlMs);
    let members = this.roles.get(role);
    if (members === undefined) {
      members = new Map();
      this.roles.set(role, members);
    }
    members.set(memberId, { memberId, info: { ...info }, expiresAtMs: this.clock() + ttl });
  }

  async live(role: string): Promise<LiveMember[]> {
    const members = this.roles.get(role);
    if (members === undefined) return [];
    const nowMs = this.clock();
    const live: LiveMember[] = [];
    for (const [memberId, member] of members) {
      if (member.expiresAtMs > nowMs) live.push({ ...member, info: { ...member.info } });
      else members.delete(memberId);
    }
    return live.sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  }

  async leave(role: string, memberId: string): Promise<void> {
    this.roles.get(role)?.delete(memberId);
  }
}
