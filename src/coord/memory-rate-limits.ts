import type { Clock } from './cluster-contract.js';
import { requireId } from './coord-errors.js';
import {
  type LoginKeyKind,
  type LoginKeys,
  type LoginThrottle,
  type LoginThrottlePolicy,
  lockDelayMs,
  type RateLimits,
  requireLoginThrottlePolicy,
  requireTokenBucketPolicy,
  type TokenBucketPolicy,
  type TokenBuckets,
} from './rate-limits.js';

interface Bucket {
  tokens: number;
  atMs: number;
}

interface FailureCount {
  failures: number;
  firstAtMs: number;
  lockedUntilMs: number;
}

/**
 * Rate limits in one process's memory: the same rules as `lua/rate-take.lua` and
 * `lua/login-*.lua`. Every limiter made here shares this object's state (peers of a memory
 * coordination, like api processes on one Redis). Buckets are per caller, so their number is
 * bounded by the number of keys and users, not by traffic; failure counts by `maxEntries`.
 */
export class MemoryRateLimits implements RateLimits {
  private readonly buckets = new Map<string, Bucket>();
  /** `account:<e-mail>` / `address:<ip>` → count, least recently failed first (for eviction). */
  private readonly failures = new Map<string, FailureCount>();

  constructor(private readonly clock: Clock) {}

  tokenBuckets(policy: TokenBucketPolicy): TokenBuckets {
    requireTokenBucketPolicy(policy);
    return { take: async (callerId) => this.take(policy, callerId) };
  }

  loginThrottle(policy: LoginThrottlePolicy): LoginThrottle {
    requireLoginThrottlePolicy(policy);
    return {
      waitMs: async (keys) => this.waitMs(keys),
      failed: async (keys) => this.failed(policy, keys),
      succeeded: async (keys) => {
        this.failures.delete(`account:${keys.account}`);
      },
    };
  }

  private take(policy: TokenBucketPolicy, callerId: string): number {
    requireId('callerId', callerId);
    const nowMs = this.clock();
    const bucket = this.buckets.get(callerId) ?? { tokens: policy.burst, atMs: nowMs };
    const refilled = Math.min(
      policy.burst,
      bucket.tokens + (Math.max(0, nowMs - bucket.atMs) * policy.perSecond) / 1000,
    );
    if (refilled >= 1) {
      this.buckets.set(callerId, { tokens: refilled - 1, atMs: nowMs });
      return 0;
    }
    this.buckets.set(callerId, { tokens: refilled, atMs: nowMs });
    return Math.ceil(((1 - refilled) * 1000) / policy.perSecond);
  }

  private waitMs(keys: LoginKeys): number {
    const nowMs = this.clock();
    // A count whose window passed is unlocked too: only the lock matters here.
    return Math.max(
      0,
      ...names(keys).map(([, name]) => (this.failures.get(name)?.lockedUntilMs ?? 0) - nowMs),
    );
  }

  private failed(policy: LoginThrottlePolicy, keys: LoginKeys): LoginKeyKind[] {
    const nowMs = this.clock();
    const locked: LoginKeyKind[] = [];
    for (const [kind, name] of names(keys)) {
      const count = this.current(policy, name, nowMs) ?? { failures: 0, firstAtMs: nowMs, lockedUntilMs: 0 };
      count.failures += 1;
      const threshold = kind === 'account' ? policy.accountThreshold : policy.addressThreshold;
      if (count.failures >= threshold) {
        count.lockedUntilMs = nowMs + lockDelayMs(policy, count.failures, threshold);
        locked.push(kind);
      }
      // Re-inserted so the map's order is least recently failed first, for eviction.
      this.failures.delete(name);
      this.failures.set(name, count);
    }
    for (const name of this.failures.keys()) {
      if (this.failures.size <= policy.maxEntries) break;
      this.failures.delete(name);
    }
    return locked;
  }

  /** The key's count, unless its window and its lock both passed (then it is forgotten). */
  private current(policy: LoginThrottlePolicy, name: string, nowMs: number): FailureCount | undefined {
    const count = this.failures.get(name);
    if (count && nowMs - count.firstAtMs >= policy.windowMs && nowMs >= count.lockedUntilMs) {
      this.failures.delete(name);
      return undefined;
    }
    return count;
  }
}

function names(keys: LoginKeys): Array<[LoginKeyKind, string]> {
  return [
    ['account', `account:${keys.account}`],
    ['address', `address:${keys.address}`],
  ];
}
