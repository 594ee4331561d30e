import { CoordInvalidInputError } from './coord-errors.js';

/**
 * Limits on callers shared by every api process (docs/security.md): the API rate limit per key
 * and the failed-login throttle. Two implementations behind these interfaces — in memory
 * (embedded mode; peers of one memory coordination share it) and on Redis (cluster mode, one
 * Lua script per transition, time from the server's clock) — and one conformance suite
 * (`test/coord/rate-limits.test.ts`) runs on both.
 *
 * A method rejects when its backend cannot answer; what that means (admit or refuse) is the
 * caller's decision, made in the API.
 */
export interface RateLimits {
  /** Buckets under this policy. Every process using the same backend shares the callers' buckets. */
  tokenBuckets(policy: TokenBucketPolicy): TokenBuckets;
  /** A throttle under this policy. Every process using the same backend shares the failure counts. */
  loginThrottle(policy: LoginThrottlePolicy): LoginThrottle;
}

/** A token bucket per caller: `burst` at once after a quiet period, `perSecond` sustained. */
export interface TokenBucketPolicy {
  /** Sustained requests per second (> 0). */
  perSecond: number;
  /** Requests allowed at once after a quiet period (≥ 1). */
  burst: number;
}

export interface TokenBuckets {
  /** Takes one token from the caller's bucket: 0 when granted, else the whole ms until one will be. */
  take(callerId: string): Promise<number>;
}

/**
 * Failed logins counted per account (e-mail) and per source address within a window; from the
 * threshold on, each failure locks that key for `baseDelayMs · 2^(failures − threshold)`, capped.
 * The window starts at the first failure; it and the lock must both have passed for the count to
 * be forgotten.
 */
export interface LoginThrottlePolicy {
  windowMs: number;
  /** Failures allowed per account within the window before delays start. */
  accountThreshold: number;
  /** Failures allowed per source address within the window (several people may share one). */
  addressThreshold: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Keys kept in memory at most (least recently failed forgotten first); on Redis every key has a TTL instead. */
  maxEntries: number;
}

export interface LoginKeys {
  account: string;
  address: string;
}

export type LoginKeyKind = keyof LoginKeys;

export interface LoginThrottle {
  /** 0 when a login may be tried now, else the ms until it may. */
  waitMs(keys: LoginKeys): Promise<number>;
  /** Records a failure against both keys; returns which keys it locked (for the audit log). */
  failed(keys: LoginKeys): Promise<LoginKeyKind[]>;
  /** Clears the account's count, never the address's: one valid account must not reset an attacker's budget. */
  succeeded(keys: LoginKeys): Promise<void>;
}

/** The backend could not be asked or did not answer in time; the limit is unknown. */
export class LimitsUnavailableError extends Error {
  override readonly name = 'LimitsUnavailableError';
  readonly code = 'LIMITS_UNAVAILABLE' as const;
}

export function requireTokenBucketPolicy(policy: TokenBucketPolicy): void {
  if (!(Number.isFinite(policy.perSecond) && policy.perSecond > 0))
    throw new CoordInvalidInputError(`perSecond must be > 0, got ${policy.perSecond}`);
  if (!(Number.isFinite(policy.burst) && policy.burst >= 1))
    throw new CoordInvalidInputError(`burst must be ≥ 1, got ${policy.burst}`);
}

export function requireLoginThrottlePolicy(policy: LoginThrottlePolicy): void {
  for (const field of [
    'windowMs',
    'accountThreshold',
    'addressThreshold',
    'baseDelayMs',
    'maxDelayMs',
  ] as const) {
    const value = policy[field];
    if (!(Number.isSafeInteger(value) && value > 0))
      throw new CoordInvalidInputError(`${field} must be a positive integer, got ${value}`);
  }
}

/** The lock a failure sets once a key's count reaches its threshold: exponential, capped. */
export function lockDelayMs(policy: LoginThrottlePolicy, failures: number, threshold: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(30, failures - threshold));
}
