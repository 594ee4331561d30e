/**
 * Login throttling: failed logins are counted per account (e-mail) and per source address within
 * a window; past a threshold each further failure locks that key for an exponentially growing
 * delay (1 s, 2 s, 4 s, … capped). While locked, a login is refused (429 with Retry-After) before
 * any password is checked, so a locked account is no guessing oracle. A success clears the
 * account's count, never the address's (one valid account must not reset an attacker's budget).
 *
 * The counts live behind `LoginThrottle` (src/coord/rate-limits.ts): in this process's memory in
 * embedded mode (bounded by `maxEntries`), on Redis in a cluster, where every api process counts
 * into the same keys (each with a TTL). When they cannot be read the login fails closed (503):
 * see src/api/routes/session.ts.
 */
import type { LoginThrottlePolicy } from '../coord/rate-limits.js';

export type { LoginKeys, LoginThrottle, LoginThrottlePolicy } from '../coord/rate-limits.js';

export const DEFAULT_LOGIN_THROTTLE: LoginThrottlePolicy = {
  windowMs: 15 * 60_000,
  accountThreshold: 5,
  addressThreshold: 20,
  baseDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
  maxEntries: 10_000,
};
