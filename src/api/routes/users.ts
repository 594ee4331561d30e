import { Type } from '@sinclair/typebox';
import { uuidv7 } from '../../domain/ids.js';
import { formatInstant, formatOptionalInstant } from '../../intake/timestamps.js';
import { hashPassword } from '../../security/passwords.js';
import { isRole, mayGrant, type Role } from '../../security/rbac.js';
import type { UserRecord } from '../../store/contract.js';
import { auditTrail } from '../audit-trail.js';
import { principalOf, targetTenant } from '../auth.js';
import type { ApiApp, ApiOptions } from '../options.js';
import { notFound, ProblemError } from '../problem.js';
import { IdParams, List, withProblems } from '../schemas/common.js';
import { UserCreateSchema, UserPatchSchema, UserSchema } from '../schemas/identity.js';
import { TenantQuery } from '../schemas/security.js';

const TAGS = ['users'];

/** Never the password hash. */
export function userView(user: UserRecord) {
  return {
    id: user.id,
    tenantId: user.tenantId,
    email: user.email,
    role: user.role,
    disabled: user.disabled,
    createdBy: user.createdBy,
    createdAt: formatInstant(user.createdAt),
    updatedAt: formatInstant(user.updatedAt),
    lastLoginAt: formatOptionalInstant(user.lastLoginAt),
    version: user.version,
  };
}

/**
 * Console users of a tenant. Same rules as API keys (rbac.ts `mayGrant`): nobody hands out more
 * than it has, and nobody changes or deletes an account above its own role — a tenant admin who
 * could reset a platform admin's password would be one.
 */
export function userRoutes(app: ApiApp, options: ApiOptions): void {
  const { store, clock } = options;
  const audit = auditTrail(store, clock);

  function assertMayManage(granter: Role, role: string, verb: string): void {
    if (!isRole(role) || !mayGrant(granter, role)) {
      throw new ProblemError(403, 'forbidden', `a ${granter} may not ${verb} ${role} users`);
    }
  }

  async function existing(tenantId: string, id: string): Promise<UserRecord> {
    const user = await store.users.get(tenantId, id);
    if (!user) throw notFound('user');
    return user;
  }

  app.post(
    '/v1/users',
    {
      config: { permission: 'users:write' },
      schema: {
        tags: TAGS,
        summary: 'Create a console user (the password is stored as an argon2id hash only)',
        body: UserCreateSchema,
        response: withProblems({ 201: UserSchema }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { email, password, role, tenantId: requested } = request.body;
      assertMayManage(principal.role, role, 'create');
      const tenantId = await targetTenant(request, store, requested);
      const now = clock();
      const user = await store.users.create({
        id: uuidv7(now),
        tenantId,
        email: email.toLowerCase(),
        role,
        passwordHash: await hashPassword(password),
        createdBy: principal.actor,
        createdAt: now,
      });
      const view = userView(user);
      await audit(request, { action: 'user.create', target: `user:${user.id}`, tenantId, after: view });
      reply.header('location', `/v1/users/${user.id}`);
      return reply.code(201).send(view);
    },
  );

  app.get(
    '/v1/users',
    {
      config: { permission: 'users:read' },
      schema: {
        tags: TAGS,
        summary: "The tenant's console users",
        querystring: TenantQuery,
        response: withProblems({ 200: List(UserSchema) }),
      },
    },
    async (request) => {
      const tenantId = await targetTenant(request, store, request.query.tenantId);
      return { items: (await store.users.list(tenantId)).map(userView) };
    },
  );

  app.patch(
    '/v1/users/:id',
    {
      config: { permission: 'users:write' },
      schema: {
        tags: TAGS,
        summary:
          "Change a user's role, password or disabled flag; a new password or disabling ends its sessions",
        params: IdParams,
        querystring: TenantQuery,
        body: UserPatchSchema,
        response: withProblems({ 200: UserSchema }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const tenantId = await targetTenant(request, store, request.query.tenantId);
      const before = await existing(tenantId, request.params.id);
      assertMayManage(principal.role, before.role, 'change');
      const { role, password, disabled } = request.body;
      if (role !== undefined) assertMayManage(principal.role, role, 'make');
      const user = await store.users.update(
        tenantId,
        before.id,
        {
          ...(role !== undefined ? { role } : {}),
          ...(password !== undefined ? { passwordHash: await hashPassword(password) } : {}),
          ...(disabled !== undefined ? { disabled } : {}),
        },
        clock(),
      );
      // The role is read on every request; a password or an account that changed hands must
      // not survive in an open browser.
      const sessionsEnded =
        password !== undefined || disabled === true ? await store.sessions.deleteForUser(user.id) : 0;
      const view = userView(user);
      await audit(request, {
        action: 'user.update',
        target: `user:${user.id}`,
        tenantId,
        before: userView(before),
        after: { ...view, passwordChanged: password !== undefined, sessionsEnded },
      });
      return view;
    },
  );

  app.delete(
    '/v1/users/:id',
    {
      config: { permission: 'users:write' },
      schema: {
        tags: TAGS,
        summary: 'Delete a user; its sessions end with it',
        params: IdParams,
        querystring: TenantQuery,
        response: withProblems({ 204: Type.Null({ description: 'Deleted' }) }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const tenantId = await targetTenant(request, store, request.query.tenantId);
      const before = await existing(tenantId, request.params.id);
      assertMayManage(principal.role, before.role, 'delete');
      await store.users.delete(tenantId, before.id);
      await audit(request, {
        action: 'user.delete',
        target: `user:${before.id}`,
        tenantId,
        before: userView(before),
      });
      return reply.code(204).send(null);
    },
  );
}
