import type { LeaderLease, LeaseHolder } from './cluster-contract.js';
import { requireId, requireToken, requireTtlMs } from './coord-errors.js';
import { arrayReply, integerReply, type RedisContext, stringReply } from './redis-context.js';
import { scripts } from './redis-scripts.js';

/** The leader lease on Redis: `lua/leader-*.lua`, keys `lease:<scope>` and `fence:<scope>`. */
export class RedisLeaderLease implements LeaderLease {
  constructor(private readonly context: RedisContext) {}

  async acquire(scope: string, holderId: string, ttlMs: number, floorToken: number): Promise<number | null> {
    requireId('holderId', holderId);
    requireToken('floorToken', floorToken);
    const { redis, keys, graceMs } = this.context;
    const reply = await scripts.leaderAcquire.run(
      redis,
      [keys.lease(scope), keys.fence(scope)],
      [this.context.nowArg(), holderId, requireTtlMs(ttlMs), floorToken, graceMs],
    );
    return reply === null ? null : integerReply('leader-acquire', reply);
  }

  async renew(scope: string, holderId: string, token: number, ttlMs: number): Promise<boolean> {
    const { redis, keys, graceMs } = this.context;
    const reply = await scripts.leaderRenew.run(
      redis,
      [keys.lease(scope)],
      [this.context.nowArg(), holderId, String(token), requireTtlMs(ttlMs), graceMs],
    );
    return integerReply('leader-renew', reply) === 1;
  }

  async release(scope: string, holderId: string, token: number): Promise<void> {
    await scripts.leaderRelease.run(
      this.context.redis,
      [this.context.keys.lease(scope)],
      [holderId, String(token)],
    );
  }

  async current(scope: string): Promise<LeaseHolder | null> {
    const reply = await scripts.leaderCurrent.run(
      this.context.redis,
      [this.context.keys.lease(scope)],
      [this.context.nowArg()],
    );
    if (reply === null) return null;
    const [holderId, token, expiresAtMs] = arrayReply('leader-current', reply);
    return {
      holderId: stringReply('leader-current', holderId),
      token: integerReply('leader-current', token),
      expiresAtMs: integerReply('leader-current', expiresAtMs),
    };
  }
}
