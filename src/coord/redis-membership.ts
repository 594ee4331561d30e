import type { LiveMember, Membership } from './cluster-contract.js';
import { CoordProtocolError, requireId, requireTtlMs } from './coord-errors.js';
import { arrayReply, integerReply, type RedisContext, stringReply } from './redis-context.js';
import { scripts } from './redis-scripts.js';

/** Membership on Redis: `lua/members-*.lua`, keys `members:<role>` and `member-info:<role>`. */
export class RedisMembership implements Membership {
  constructor(private readonly context: RedisContext) {}

  async heartbeat(
    role: string,
    memberId: string,
    ttlMs: number,
    info: Record<string, string>,
  ): Promise<void> {
    requireId('role', role);
    requireId('memberId', memberId);
    const { redis, graceMs } = this.context;
    await scripts.membersHeartbeat.run(redis, this.keysOf(role), [
      this.context.nowArg(),
      memberId,
      requireTtlMs(ttlMs),
      JSON.stringify(info),
      graceMs,
    ]);
  }

  async live(role: string): Promise<LiveMember[]> {
    const reply = arrayReply(
      'members-live',
      await scripts.membersLive.run(this.context.redis, this.keysOf(role), [this.context.nowArg()]),
    );
    const members: LiveMember[] = [];
    for (let i = 0; i + 2 < reply.length; i += 3) {
      members.push({
        memberId: stringReply('members-live', reply[i]),
        expiresAtMs: integerReply('members-live', reply[i + 1]),
        info: parseInfo(stringReply('members-live', reply[i + 2])),
      });
    }
    // Sorted here, not by the script: Lua's string order is bytes, JavaScript's is UTF-16 units.
    return members.sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  }

  async leave(role: string, memberId: string): Promise<void> {
    await scripts.membersLeave.run(this.context.redis, this.keysOf(role), [memberId]);
  }

  private keysOf(role: string): string[] {
    return [this.context.keys.memberExpiries(role), this.context.keys.memberInfos(role)];
  }
}

function parseInfo(text: string): Record<string, string> {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CoordProtocolError('members-live: a member info is not an object');
  const info: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) info[key] = String(entry);
  return info;
}
