import { uuidv7 } from '../../domain/ids.js';
import { formatInstant, formatOptionalInstant } from '../../intake/timestamps.js';
import { generateApiKey } from '../../security/api-keys.js';
import { mayGrant } from '../../security/rbac.js';
import type { ApiKeyRecord } from '../../store/contract.js';
import { auditTrail } from '../audit-trail.js';
import { principalOf, targetTenant } from '../auth.js';
import type { ApiApp, ApiOptions } from '../options.js';
import { notFound, ProblemError } from '../problem.js';
import { IdParams, List, withProblems } from '../schemas/common.js';
import { ApiKeyCreateSchema, ApiKeySchema, CreatedApiKeySchema, TenantQuery } from '../schemas/security.js';

const TAGS = ['api-keys'];

/** Never the hash: a list of keys tells which exist, not how to forge one. */
export function apiKeyView(record: ApiKeyRecord) {
  return {
    id: record.id,
    tenantId: record.tenantId,
    name: record.name,
    role: record.role,
    prefix: record.keyPrefix,
    createdBy: record.createdBy,
    createdAt: formatInstant(record.createdAt),
    revokedAt: formatOptionalInstant(record.revokedAt),
    lastUsedAt: formatOptionalInstant(record.lastUsedAt),
  };
}

/**
 * Per-tenant API keys: made here (the secret is in the 201 response and nowhere else, ever),
 * listed, revoked. A tenant admin manages its tenant's keys and cannot hand out platform_admin;
 * a platform admin may name any tenant (`tenantId` in the body or the query).
 */
export function apiKeyRoutes(app: ApiApp, options: ApiOptions): void {
  const { store, clock } = options;
  const audit = auditTrail(store, clock);

  app.post(
    '/v1/api-keys',
    {
      config: { permission: 'api-keys:write' },
      schema: {
        tags: TAGS,
        summary: 'Create an API key; the key is shown in this response only',
        body: ApiKeyCreateSchema,
        response: withProblems({ 201: CreatedApiKeySchema }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { name, role, tenantId: requested } = request.body;
      if (!mayGrant(principal.role, role)) {
        throw new ProblemError(403, 'forbidden', `a ${principal.role} may not create ${role} keys`);
      }
      const tenantId = await targetTenant(request, store, requested);
      const now = clock();
      const secret = generateApiKey();
      const record = await store.apiKeys.create({
        id: uuidv7(now),
        tenantId,
        name,
        role,
        keyHash: secret.hash,
        keyPrefix: secret.prefix,
        createdBy: principal.actor,
        createdAt: now,
      });
      const view = apiKeyView(record);
      await audit(request, {
        action: 'api_key.create',
        target: `api_key:${record.id}`,
        tenantId,
        after: view,
      });
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ ...view, key: secret.secret });
    },
  );

  app.get(
    '/v1/api-keys',
    {
      config: { permission: 'api-keys:read' },
      schema: {
        tags: TAGS,
        summary: "The tenant's keys (never their secrets)",
        querystring: TenantQuery,
        response: withProblems({ 200: List(ApiKeySchema) }),
      },
    },
    async (request) => {
      const tenantId = await targetTenant(request, store, request.query.tenantId);
      return { items: (await store.apiKeys.list(tenantId)).map(apiKeyView) };
    },
  );

  app.delete(
    '/v1/api-keys/:id',
    {
      config: { permission: 'api-keys:write' },
      schema: {
        tags: TAGS,
        summary: 'Revoke a key (idempotent); it stops working at once',
        params: IdParams,
        querystring: TenantQuery,
        response: withProblems({ 200: ApiKeySchema }),
      },
    },
    async (request) => {
      const tenantId = await targetTenant(request, store, request.query.tenantId);
      const before = await store.apiKeys.get(tenantId, request.params.id);
      if (!before) throw notFound('API key');
      const record = await store.apiKeys.revoke(tenantId, request.params.id, clock());
      const view = apiKeyView(record);
      await audit(request, {
        action: 'api_key.revoke',
        target: `api_key:${record.id}`,
        tenantId,
        before: apiKeyView(before),
        after: view,
      });
      return view;
    },
  );
}
