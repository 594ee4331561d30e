import type { FastifyRequest } from 'fastify';
import { hashServiceToken, type InternalRole, isInternalRole } from '../../security/service-tokens.js';
import type { Store } from '../../store/contract.js';
import type { ApiApp } from '../options.js';
import { ProblemError } from '../problem.js';
import { withProblems } from '../schemas/common.js';
import { PingSchema } from '../schemas/identity.js';

const TAGS = ['internal'];
const LAST_USED_RESOLUTION_MS = 60_000;

/** A process of the platform, authenticated by its service token. */
export interface ServicePrincipal {
  tokenId: string;
  role: InternalRole;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** /internal routes: the service roles that may call it (none named: nobody). */
    serviceRoles?: readonly InternalRole[];
  }
  interface FastifyRequest {
    service: ServicePrincipal | null;
  }
}

function bearer(request: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

/**
 * /internal is a separate door: only service tokens open it, and they open nothing else (the
 * /v1 hook looks keys up among API keys, where no service token is). Tenant keys, the
 * bootstrap key and session cookies are not even looked at here.
 */
export function internalRoutes(app: ApiApp, store: Store, clock: () => number): void {
  app.decorateRequest('service', null);
  app.addHook('onRequest', async (request) => {
    const token = bearer(request);
    const record =
      token === undefined ? undefined : await store.serviceTokens.findByHash(hashServiceToken(token));
    if (!record || record.revokedAt !== null || !isInternalRole(record.role)) {
      throw new ProblemError(
        401,
        'unauthorized',
        'internal routes take a service token (switchboard tokens create)',
      );
    }
    const allowed = request.routeOptions.config.serviceRoles;
    if (allowed === undefined || !allowed.includes(record.role)) {
      throw new ProblemError(403, 'forbidden', `the ${record.role} service role may not call this route`);
    }
    const now = clock();
    if (record.lastUsedAt === null || now - record.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
      await store.serviceTokens.touch(record.id, now);
    }
    request.service = { tokenId: record.id, role: record.role };
  });

  app.get(
    '/internal/v1/ping',
    {
      config: { serviceRoles: ['api', 'scheduler', 'worker'] },
      schema: {
        tags: TAGS,
        security: [{ serviceToken: [] }],
        summary: "A service token's check: answers with its role",
        response: withProblems({ 200: PingSchema }),
      },
    },
    async (request) => {
      if (!request.service) throw new Error('internal route reached without a service token');
      return { role: request.service.role, tokenId: request.service.tokenId };
    },
  );
}
