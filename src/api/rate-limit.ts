/**
 * API rate limit per key (OWASP API4): a token bucket per caller, in process. Each api node
 * limits on its own, so a cluster of N nodes allows up to N times the rate; a shared limiter
 * belongs to coord when the cluster arrives. Buckets are per key, so their number is bounded
 * by the number of keys, not by traffic.
 */
export interface RateLimit {
  /** Sustained requests per second. */
  perSecond: number;
  /** Requests allowed at once after a quiet period. */
  burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 100, burst: 500 };

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(private readonly limit: RateLimit) {}

  /** Takes one token; returns 0 when granted, else the ms until one will be available. */
  take(callerId: string, nowMs: number): number {
    const bucket = this.buckets.get(callerId) ?? { tokens: this.limit.burst, atMs: nowMs };
    const refilled = Math.min(
      this.limit.burst,
      bucket.tokens + (Math.max(0, nowMs - bucket.atMs) * this.limit.perSecond) / 1000,
    );
    if (refilled >= 1) {
      this.buckets.set(callerId, { tokens: refilled - 1, atMs: nowMs });
      return 0;
    }
    this.buckets.set(callerId, { tokens: refilled, atMs: nowMs });
    return Math.ceil(((1 - refilled) * 1000) / this.limit.perSecond);
  }
}
