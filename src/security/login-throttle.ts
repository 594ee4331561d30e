/**
 * Login throttling: failed logins are counted per account (e-mail) and per source address within
 * a window; past a threshold each further failure locks that key for an exponentially growing
 * delay (1 s, 2 s, 4 s, … capped). While locked, a login is refused (429 with Retry-After) before
 * any password is checked, so a locked account is no guessing oracle. A success clears the
 * account's count, never the address's (one valid account must not reset an attacker's budget).
 *
 * In process, like the API rate limit: N api nodes allow N times the attempts until this moves
 * to coord. Bounded: past `maxEntries` keys the least recently failed ones are forgotten.
 */
export interface LoginThrottlePolicy {
  windowMs: number;
  /** Failures allowed per account within the window before delays start. */
  accountThreshold: number;
  /** Failures allowed per source address within the window (several people may share one). */
  addressThreshold: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxEntries: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottlePolicy = {
  windowMs: 15 * 60_000,
  accountThreshold: 5,
  addressThreshold: 20,
  baseDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
  maxEntries: 10_000,
};

interface FailureCount {
  failures: number;
  firstAtMs: number;
  lockedUntilMs: number;
}

export interface LoginKeys {
  account: string;
  address: string;
}

export class LoginThrottle {
  private readonly counts = new Map<string, FailureCount>();

  constructor(private readonly policy: LoginThrottlePolicy = DEFAULT_LOGIN_THROTTLE) {}

  /** 0 when a login may be tried now, else the ms until it may. */
  waitMs(keys: LoginKeys, nowMs: number): number {
    return Math.max(
      0,
      ...this.names(keys).map((name) => (this.current(name, nowMs)?.lockedUntilMs ?? 0) - nowMs),
    );
  }

  /** Records a failure; returns which keys it locked (for the audit log). */
  failed(keys: LoginKeys, nowMs: number): Array<'account' | 'address'> {
    const locked: Array<'account' | 'address'> = [];
    for (const [kind, name] of [
      ['account', `account:${keys.account}`],
      ['address', `address:${keys.address}`],
    ] as const) {
      const count = this.current(name, nowMs) ?? { failures: 0, firstAtMs: nowMs, lockedUntilMs: 0 };
      count.failures += 1;
      const threshold = kind === 'account' ? this.policy.accountThreshold : this.policy.addressThreshold;
      if (count.failures >= threshold) {
        const delay = this.policy.baseDelayMs * 2 ** Math.min(30, count.failures - threshold);
        count.lockedUntilMs = nowMs + Math.min(this.policy.maxDelayMs, delay);
        locked.push(kind);
      }
      // Re-inserted so the map's order is least recently failed first, for eviction.
      this.counts.delete(name);
      this.counts.set(name, count);
    }
    while (this.counts.size > this.policy.maxEntries) this.counts.delete(this.counts.keys().next().value!);
    return locked;
  }

  succeeded(keys: LoginKeys): void {
    this.counts.delete(`account:${keys.account}`);
  }

  private names(keys: LoginKeys): string[] {
    return [`account:${keys.account}`, `address:${keys.address}`];
  }

  /** The key's count, unless its window passed (then it is forgotten). */
  private current(name: string, nowMs: number): FailureCount | undefined {
    const count = this.counts.get(name);
    if (count && nowMs - count.firstAtMs >= this.policy.windowMs && nowMs >= count.lockedUntilMs) {
      this.counts.delete(name);
      return undefined;
    }
    return count;
  }
}
