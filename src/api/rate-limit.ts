import type { FastifyBaseLogger } from 'fastify';
import type { TokenBucketPolicy, TokenBuckets } from '../coord/rate-limits.js';

/**
 * API rate limit per key (OWASP API4): a token bucket per caller, kept by the backend's
 * `TokenBuckets` — this process's memory in embedded mode, Redis in a cluster, where every api
 * process takes from the same bucket (one limit, whatever the number of nodes).
 */
export type RateLimit = TokenBucketPolicy;

export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 100, burst: 500 };

/** One warning per this much time while the backend is unreachable, with the count admitted since. */
const UNCHECKED_WARNING_INTERVAL_MS = 10_000;

/**
 * The rate limit as the API applies it. It fails OPEN: when the buckets cannot be read (Redis
 * unreachable or slower than its deadline) the request is admitted unchecked and a warning is
 * logged — at most every 10 s, with how many went through unchecked. A Redis blip must not take
 * the whole API down, and a key's holder is already authenticated; the limit bounds cost, not
 * access. (The login throttle, which does guard access, fails closed: routes/session.ts.)
 */
export class ApiRateLimit {
  private uncheckedSinceWarning = 0;
  private lastWarningAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly buckets: TokenBuckets,
    private readonly clock: () => number,
    /** Counts each request admitted unchecked (the metric `switchboard_api_rate_limit_unchecked_total`). */
    private readonly onUnchecked: () => void = () => {},
  ) {}

  /** 0 when the caller may go on, else the ms until its next token. */
  async waitMs(callerId: string, log: FastifyBaseLogger): Promise<number> {
    try {
      return await this.buckets.take(callerId);
    } catch (error) {
      this.uncheckedSinceWarning += 1;
      this.onUnchecked();
      const nowMs = this.clock();
      if (nowMs - this.lastWarningAtMs >= UNCHECKED_WARNING_INTERVAL_MS) {
        log.warn(
          { err: error, admittedUnchecked: this.uncheckedSinceWarning },
          'rate limit unavailable: admitting requests unchecked (fails open)',
        );
        this.lastWarningAtMs = nowMs;
        this.uncheckedSinceWarning = 0;
      }
      return 0;
    }
  }
}
