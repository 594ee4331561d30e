import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RateLimits } from '../coord/rate-limits.js';
import type { DispatchStatus } from '../scheduler/scheduler.js';
import type { LoginThrottlePolicy } from '../security/login-throttle.js';
import type { NumberVault } from '../security/number-vault.js';
import type { SessionTimes } from '../security/sessions.js';
import type { Store } from '../store/contract.js';
import type { RateLimit } from './rate-limit.js';
import type { TypeBoxProvider } from './validation.js';

export interface ApiOptions {
  store: Store;
  vault: NumberVault;
  /**
   * Bootstrap API keys from config: key → tenant it acts for, as platform_admin. Compared in
   * constant time. Other keys are made through /v1/api-keys and live (hashed) in the store.
   */
  apiKeys: ReadonlyArray<{ key: string; tenantId: string }>;
  /** Epoch ms; the API never reads the wall clock itself. */
  clock: () => number;
  logger: Logger | false;
  /** GET /metrics serves it; the API adds its HTTP metrics to it. */
  metricsRegistry: Registry;
  /** GET /healthz: 200 when ok, else 503. */
  health: () => Promise<{ ok: boolean; details: Record<string, unknown> }>;
  /** Called after a change the scheduler must notice at once. */
  notify: {
    tasksSubmitted(campaignId: string): void;
    campaignChanged(campaignId: string): void;
    resourcesChanged(): void;
    /** Weights and limits of a tenant changed. */
    tenantChanged(tenantId: string): void;
  };
  /** Console session lifetimes; default 30 min idle, 12 h absolute. */
  sessions?: SessionTimes;
  /** Failed-login throttling; default src/security/login-throttle.ts. */
  loginThrottle?: LoginThrottlePolicy;
  /**
   * Where the rate limit's buckets and the login throttle's counts live: the cluster's
   * coordination (`coord.limits`, shared by every api process). Default: this process's memory.
   */
  rateLimits?: RateLimits;
  /**
   * Fastify's `trustProxy`: which proxies' X-Forwarded-For/-Proto to believe (default none).
   * It decides the source IP in audit entries and whether the session cookie gets `Secure`.
   */
  trustProxy?: boolean | string | string[];
  /** The scheduler's view, where this process runs one (an api-only process has none). */
  dispatch?: DispatchView;
  limits?: {
    /** Tasks per batch request; default 10,000. */
    maxBatch?: number;
    /** Body limit of a batch request; default 16 MiB (a full batch of 10,000 tasks with variables fits). */
    bodyLimitBytes?: number;
    /** Body limit of every other request; default 64 KiB. */
    smallBodyLimitBytes?: number;
    /** Per API key; `false` turns it off (tests that drive many requests on a frozen clock). */
    rateLimit?: RateLimit | false;
  };
}

export interface LineHealthView {
  state: 'healthy' | 'ejected' | 'probing';
  usable: boolean;
  capsShare: number;
  reason: string;
  override: 'in' | 'out' | null;
  stats: {
    window: { attempts: number; answered: number; failures: number; notDialed: number; inconclusive: number };
    answerRate: number | undefined;
    baseline: number | undefined;
  };
}

export interface DispatchView {
  dispatchStatus(tenantId: string, campaignId: string): Promise<DispatchStatus | undefined>;
  lineHealth(lineId: string): Promise<LineHealthView | null>;
  setLineOverride(lineId: string, override: 'in' | 'out' | null): Promise<void>;
}

export const DEFAULT_MAX_BATCH = 10_000;
export const DEFAULT_BODY_LIMIT_BYTES = 16 * 1024 * 1024;
export const DEFAULT_SMALL_BODY_LIMIT_BYTES = 64 * 1024;

/** The Fastify instance the routes are registered on, typed by their TypeBox schemas. */
export type ApiApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxProvider
>;
