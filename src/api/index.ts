import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { MemoryRateLimits } from '../coord/memory-rate-limits.js';
import { uuidv7 } from '../domain/ids.js';
import { TaskInputSchema } from '../intake/task-intake.js';
import { DEFAULT_LOGIN_THROTTLE } from '../security/login-throttle.js';
import { DEFAULT_SESSION_TIMES } from '../security/sessions.js';
import { ApiKeyRing, authenticate } from './auth.js';
import { httpMetrics } from './http-metrics.js';
import {
  type ApiApp,
  type ApiOptions,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_SMALL_BODY_LIMIT_BYTES,
} from './options.js';
import { handleError, handleNotFound } from './problem.js';
import { ApiRateLimit, DEFAULT_RATE_LIMIT } from './rate-limit.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { auditRoutes } from './routes/audit.js';
import { callRecordRoutes } from './routes/call-records.js';
import { campaignRoutes } from './routes/campaigns.js';
import { dispatchRoutes } from './routes/dispatch.js';
import { erasureRoutes } from './routes/erasures.js';
import { internalRoutes } from './routes/internal.js';
import { resourceRoutes } from './routes/resources.js';
import { sessionRoutes } from './routes/session.js';
import { systemRoutes } from './routes/system.js';
import { taskExportRoutes } from './routes/task-export.js';
import { taskRoutes } from './routes/tasks.js';
import { tenantRoutes } from './routes/tenants.js';
import { userRoutes } from './routes/users.js';
import { ProblemSchema } from './schemas/common.js';
import { type TypeBoxProvider, typeBoxValidatorCompiler } from './validation.js';

export type { Permission, Principal, Role } from './auth.js';
export type { ApiOptions } from './options.js';
export type { Problem } from './problem.js';

/**
 * Phone numbers and credentials never reach a log line (R1.10), even if a body or the request
 * headers get logged one day: these paths are censored by pino itself.
 */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'number',
  'body.number',
  'req.body.number',
  'tasks[*].number',
  'body.tasks[*].number',
  'req.body.tasks[*].number',
  'eslPassword',
  'body.eslPassword',
  'req.body.eslPassword',
  'key',
  'body.key',
  'req.headers.cookie',
  'headers.cookie',
  'res.headers["set-cookie"]',
  'req.headers["x-csrf-token"]',
  'password',
  'body.password',
  'req.body.password',
];

/**
 * Builds the HTTP API (not listening: the caller decides where). Tenants named by the API keys
 * are created in the store if missing, so a fresh install answers its first request.
 */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const keyRing = new ApiKeyRing(options.apiKeys);
  const now = options.clock();
  for (const tenantId of keyRing.tenantIds()) {
    await options.store.tenants.ensure({ id: tenantId, name: tenantId }, now);
  }

  const app: ApiApp = Fastify({
    ...(options.logger
      ? {
          loggerInstance: options.logger.child(
            { component: 'api' },
            { redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
          ) as FastifyBaseLogger,
        }
      : { logger: false }),
    bodyLimit: options.limits?.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    // Our own ids (never a client's header, which would let callers write into our logs), echoed
    // back as X-Request-Id so a client report can be matched to the log lines (R1.9).
    genReqId: () => uuidv7(options.clock()),
    trustProxy: options.trustProxy ?? false,
  }).withTypeProvider<TypeBoxProvider>();

  app.setValidatorCompiler(typeBoxValidatorCompiler);
  // JSON only: a text/plain body would otherwise reach validation as a string and read as a 400.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  app.decorateRequest('principal', null);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Only a batch of tasks needs a large body; every other route gets a small limit, so a
  // client cannot make the server buffer megabytes where a few hundred bytes are expected.
  const smallBodyLimit = options.limits?.smallBodyLimitBytes ?? DEFAULT_SMALL_BODY_LIMIT_BYTES;
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= smallBodyLimit;
  });
  const metrics = httpMetrics(options.metricsRegistry);
  app.addHook('onResponse', async (request, reply) => metrics.observe(request, reply));

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Switchboard API',
        version: '1',
        description:
          'Outbound-calling platform. Instants are RFC 3339 strings. Errors are application/problem+json with a stable `code`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: 'sb_session',
            description: 'Console session from POST /v1/session; unsafe methods also need X-CSRF-Token',
          },
          serviceToken: { type: 'http', scheme: 'bearer', description: 'Service token (/internal only)' },
        },
        schemas: { TaskInput: TaskInputSchema, Problem: ProblemSchema },
      },
      security: [{ bearer: [] }, { apiKey: [] }, { session: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  systemRoutes(app, options);
  // Everything under /v1 is authenticated and tenant-scoped; the hook lives in this scope only.
  await app.register(async (scope) => {
    const v1 = scope.withTypeProvider<TypeBoxProvider>();
    const limits = options.rateLimits ?? new MemoryRateLimits(options.clock);
    const rateLimit = options.limits?.rateLimit ?? DEFAULT_RATE_LIMIT;
    v1.addHook(
      'onRequest',
      authenticate({
        keyRing,
        store: options.store,
        clock: options.clock,
        rateLimit:
          rateLimit === false
            ? undefined
            : new ApiRateLimit(limits.tokenBuckets(rateLimit), options.clock, () =>
                metrics.rateLimitUnchecked(),
              ),
        sessionTimes: options.sessions ?? DEFAULT_SESSION_TIMES,
      }),
    );
    sessionRoutes(v1, options, limits.loginThrottle(options.loginThrottle ?? DEFAULT_LOGIN_THROTTLE));
    userRoutes(v1, options);
    campaignRoutes(v1, options);
    dispatchRoutes(v1, options);
    taskRoutes(v1, options);
    taskExportRoutes(v1, options);
    resourceRoutes(v1, options);
    tenantRoutes(v1, options);
    apiKeyRoutes(v1, options);
    auditRoutes(v1, options);
    erasureRoutes(v1, options);
  });
  // The platform's own processes, by service token only; a door apart from /v1.
  await app.register(async (scope) => {
    internalRoutes(scope.withTypeProvider<TypeBoxProvider>(), options.store, options.clock);
  });
  // Call records from the switches (mod_json_cdr): service token as Bearer or as Basic password.
  await app.register(async (scope) => {
    callRecordRoutes(scope.withTypeProvider<TypeBoxProvider>(), options.store, options.clock);
  });

  return app;
}
