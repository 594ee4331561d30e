import { createHash } from 'node:crypto';
import type { RedisValue } from 'ioredis';
import { requireId } from './coord-errors.js';
import {
  LimitsUnavailableError,
  type LoginKeyKind,
  type LoginKeys,
  type LoginThrottle,
  type LoginThrottlePolicy,
  type RateLimits,
  requireLoginThrottlePolicy,
  requireTokenBucketPolicy,
  type TokenBucketPolicy,
  type TokenBuckets,
} from './rate-limits.js';
import { arrayReply, integerReply, type RedisContext } from './redis-context.js';
import { type LuaScript, scripts } from './redis-scripts.js';

/**
 * How long a limit check may wait for Redis. Every API request and login waits on one, so an
 * outage must not hold them for the connection's 5 s command timeout: past this the check
 * rejects (`LimitsUnavailableError`) and the API applies its fail-open or fail-closed rule.
 */
const DEFAULT_DEADLINE_MS = 1_000;

/**
 * Rate limits on Redis: `lua/rate-take.lua` (keys `rate:<callerId>`) and `lua/login-*.lua` (keys
 * `login-account:<digest>`, `login-address:<digest>`). Every key has a TTL. Names are stored as
 * SHA-256 digests: people type passwords into the e-mail field, and Redis may persist to disk.
 * A call ioredis resends after a reconnect may count twice (one token or one failure more): the
 * error is on the strict side.
 */
export class RedisRateLimits implements RateLimits {
  constructor(
    private readonly context: RedisContext,
    private readonly deadlineMs = DEFAULT_DEADLINE_MS,
  ) {}

  tokenBuckets(policy: TokenBucketPolicy): TokenBuckets {
    requireTokenBucketPolicy(policy);
    return {
      take: async (callerId) => {
        requireId('callerId', callerId);
        const { keys, graceMs } = this.context;
        const reply = await this.run(
          scripts.rateTake,
          [keys.rateBucket(callerId)],
          [this.context.nowArg(), policy.perSecond, policy.burst, graceMs],
        );
        return integerReply('rate-take', reply);
      },
    };
  }

  loginThrottle(policy: LoginThrottlePolicy): LoginThrottle {
    requireLoginThrottlePolicy(policy);
    return {
      waitMs: async (keys) => {
        const reply = await this.run(scripts.loginCheck, this.loginKeys(keys), [this.context.nowArg()]);
        return integerReply('login-check', reply);
      },
      failed: async (keys) => {
        const reply = await this.run(scripts.loginFail, this.loginKeys(keys), [
          this.context.nowArg(),
          policy.windowMs,
          policy.accountThreshold,
          policy.addressThreshold,
          policy.baseDelayMs,
          policy.maxDelayMs,
          this.context.graceMs,
        ]);
        const [account, address] = arrayReply('login-fail', reply).map((flag) =>
          integerReply('login-fail', flag),
        );
        const locked: LoginKeyKind[] = [];
        if (account === 1) locked.push('account');
        if (address === 1) locked.push('address');
        return locked;
      },
      succeeded: async (keys) => {
        await this.run(scripts.loginSucceed, [this.loginKey('account', keys.account)], []);
      },
    };
  }

  private loginKeys(keys: LoginKeys): string[] {
    return [this.loginKey('account', keys.account), this.loginKey('address', keys.address)];
  }

  private loginKey(kind: LoginKeyKind, name: string): string {
    requireId(kind, name);
    return this.context.keys.loginFailures(kind, createHash('sha256').update(name).digest('base64url'));
  }

  /** Runs a script, or rejects at once while the connection is down and after the deadline. */
  private async run(
    script: LuaScript,
    keys: readonly string[],
    args: readonly RedisValue[],
  ): Promise<unknown> {
    const { redis } = this.context;
    if (redis.status !== 'ready')
      throw new LimitsUnavailableError(`${script.name}: redis connection is ${redis.status}`);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new LimitsUnavailableError(`${script.name}: no reply within ${this.deadlineMs} ms`)),
        this.deadlineMs,
      );
    });
    try {
      return await Promise.race([script.run(redis, keys, args), deadline]);
    } catch (error) {
      if (error instanceof LimitsUnavailableError) throw error;
      throw new LimitsUnavailableError(`${script.name}: ${String(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}
