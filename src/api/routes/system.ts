import { Type } from '@sinclair/typebox';
import type { ApiApp, ApiOptions } from '../options.js';

const TAGS = ['system'];

const HealthSchema = Type.Object({
  ok: Type.Boolean(),
  details: Type.Record(Type.String(), Type.Unknown()),
});

/**
 * Unauthenticated endpoints for load balancers, Prometheus and people reading the docs
 * (`security: []` overrides the document-wide key requirement in the OpenAPI output).
 */
export function systemRoutes(app: ApiApp, options: ApiOptions): void {
  app.get(
    '/healthz',
    {
      schema: {
        tags: TAGS,
        security: [],
        summary: 'Liveness and readiness: 200 when healthy, 503 otherwise',
        response: { 200: HealthSchema, 503: HealthSchema },
      },
    },
    async (request, reply) => {
      let health: { ok: boolean; details: Record<string, unknown> };
      try {
        health = await options.health();
      } catch (error) {
        // A probe that throws is an unhealthy answer, not a 500; the reason goes to the log only.
        request.log.error({ err: error }, 'health check failed');
        health = { ok: false, details: { error: 'health check failed' } };
      }
      return reply.code(health.ok ? 200 : 503).send(health);
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: TAGS, security: [], summary: 'Prometheus metrics (text exposition format)' } },
    async (_request, reply) => {
      const text = await options.metricsRegistry.metrics();
      return reply.type(options.metricsRegistry.contentType).send(text);
    },
  );

  app.get(
    '/openapi.json',
    { schema: { tags: TAGS, security: [], summary: 'This API as an OpenAPI 3.1 document' } },
    async () => app.swagger(),
  );
}
