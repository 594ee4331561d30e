import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * Request rate, error rate and latency per route (R1.9: QPS, P50/P90/P99, 5xx share), labelled
 * with the route template (never the raw URL, which would explode the label set and could carry ids).
 * Built idempotently: an api rebuilt on the same registry (tests, restarts in-process) reuses its metrics.
 */
export interface HttpMetrics {
  observe(request: FastifyRequest, reply: FastifyReply): void;
  /** A request admitted without its rate limit checked (the limit's backend was unreachable). */
  rateLimitUnchecked(): void;
}

function reuse<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export function httpMetrics(registry: Registry): HttpMetrics {
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = reuse(
    registry,
    'switchboard_http_requests_total',
    () =>
      new Counter({
        name: 'switchboard_http_requests_total',
        help: 'HTTP requests handled by the API',
        labelNames,
        registers: [registry],
      }),
  );
  const duration = reuse(
    registry,
    'switchboard_http_request_duration_seconds',
    () =>
      new Histogram({
        name: 'switchboard_http_request_duration_seconds',
        help: 'Time to answer an HTTP request',
        labelNames,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
  );
  const unchecked = reuse(
    registry,
    'switchboard_api_rate_limit_unchecked_total',
    () =>
      new Counter({
        name: 'switchboard_api_rate_limit_unchecked_total',
        help: 'API requests admitted without a rate-limit check because its backend (Redis) was unreachable (fails open)',
        registers: [registry],
      }),
  );
  return {
    rateLimitUnchecked() {
      unchecked.inc();
    },
    observe(request, reply) {
      const labels = {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      };
      requests.inc(labels);
      duration.observe(labels, reply.elapsedTime / 1000);
    },
  };
}
