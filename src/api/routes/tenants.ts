import type { FastifyRequest } from 'fastify';
import { DEFAULT_DESTINATION_POLICY } from '../../intake/destination-policy.js';
import { formatInstant } from '../../intake/timestamps.js';
import { isPlatformScoped } from '../../security/rbac.js';
import type { TenantProfile } from '../../store/contract.js';
import { auditTrail } from '../audit-trail.js';
import { principalOf } from '../auth.js';
import type { ApiApp, ApiOptions } from '../options.js';
import { etag, expectedVersion } from '../preconditions.js';
import { notFound } from '../problem.js';
import { List, withProblems } from '../schemas/common.js';
import { TenantCreateSchema, TenantIdParams, TenantPatchSchema, TenantSchema } from '../schemas/security.js';

const TAGS = ['tenants'];

export function tenantView(tenant: TenantProfile) {
  return {
    id: tenant.id,
    name: tenant.name,
    weight: tenant.weight,
    limits: { ...tenant.limits },
    destinations: {
      allowPrefixes: tenant.destinations.allowPrefixes,
      denyPrefixes: tenant.destinations.denyPrefixes,
      allowPremiumRate: tenant.destinations.allowPremiumRate,
    },
    createdAt: formatInstant(tenant.createdAt),
    updatedAt: formatInstant(tenant.updatedAt),
    version: tenant.version,
  };
}

const NO_LIMITS = { maxCaps: null, maxConcurrent: null, maxDailyAttempts: null };

/**
 * Tenants, their limits (enforced by the scheduler) and destination policy (enforced at
 * intake). A platform admin creates and changes them; every tenant role reads its own.
 */
export function tenantRoutes(app: ApiApp, options: ApiOptions): void {
  const { store, clock } = options;
  const audit = auditTrail(store, clock);

  function mayRead(request: FastifyRequest, tenantId: string): boolean {
    const principal = principalOf(request);
    return isPlatformScoped(principal.role) || principal.tenantId === tenantId;
  }

  app.post(
    '/v1/tenants',
    {
      config: { permission: 'tenants:write' },
      schema: {
        tags: TAGS,
        summary: 'Create a tenant (409 tenant_exists if the id is taken)',
        body: TenantCreateSchema,
        response: withProblems({ 201: TenantSchema }),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const tenant = await store.tenantProfiles.create(
        {
          id: body.id,
          name: body.name,
          weight: body.weight ?? 1,
          limits: { ...NO_LIMITS, ...body.limits },
          destinations: { ...DEFAULT_DESTINATION_POLICY, ...body.destinations },
        },
        clock(),
      );
      const view = tenantView(tenant);
      options.notify.tenantChanged(tenant.id);
      await audit(request, {
        action: 'tenant.create',
        target: `tenant:${tenant.id}`,
        tenantId: tenant.id,
        after: view,
      });
      reply.header('location', `/v1/tenants/${tenant.id}`).header('etag', etag(tenant.version));
      return reply.code(201).send(view);
    },
  );

  app.get(
    '/v1/tenants',
    {
      config: { permission: 'tenants:read' },
      schema: {
        tags: TAGS,
        summary: 'Every tenant for a platform admin; the own tenant for anyone else',
        response: withProblems({ 200: List(TenantSchema) }),
      },
    },
    async (request) => {
      const tenants = await store.tenantProfiles.list();
      return { items: tenants.filter((t) => mayRead(request, t.id)).map(tenantView) };
    },
  );

  app.get(
    '/v1/tenants/:id',
    {
      config: { permission: 'tenants:read' },
      schema: {
        tags: TAGS,
        summary: 'Get a tenant with its limits and destination policy',
        params: TenantIdParams,
        response: withProblems({ 200: TenantSchema }),
      },
    },
    async (request, reply) => {
      const tenant = mayRead(request, request.params.id)
        ? await store.tenantProfiles.get(request.params.id)
        : undefined;
      if (!tenant) throw notFound('tenant');
      reply.header('etag', etag(tenant.version));
      return tenantView(tenant);
    },
  );

  app.patch(
    '/v1/tenants/:id',
    {
      config: { permission: 'tenants:write' },
      schema: {
        tags: TAGS,
        summary: 'Change a tenant: name, limits, destination policy (optimistic lock)',
        params: TenantIdParams,
        body: TenantPatchSchema,
        response: withProblems({ 200: TenantSchema }),
      },
    },
    async (request, reply) => {
      const { version, limits, destinations, name, weight } = request.body;
      const expected = expectedVersion(request, version);
      const before = await store.tenantProfiles.get(request.params.id);
      if (!before) throw notFound('tenant');
      const tenant = await store.tenantProfiles.update(
        request.params.id,
        {
          ...(name !== undefined ? { name } : {}),
          ...(weight !== undefined ? { weight } : {}),
          ...(limits ? { limits: { ...before.limits, ...limits } } : {}),
          ...(destinations ? { destinations: { ...before.destinations, ...destinations } } : {}),
        },
        expected,
        clock(),
      );
      const view = tenantView(tenant);
      options.notify.tenantChanged(tenant.id);
      await audit(request, {
        action: 'tenant.update',
        target: `tenant:${tenant.id}`,
        tenantId: tenant.id,
        before: tenantView(before),
        after: view,
      });
      reply.header('etag', etag(tenant.version));
      return view;
    },
  );
}
