import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemError } from './problem.js';

/**
 * What an API key may do. Every /v1 route names the permission it needs in its config
 * (`config: { permission: 'tasks:write' }`) and one hook checks it, so roles (R1.10: administrator,
 * operator, auditor) only have to change `permissionsOf`.
 */
export const PERMISSIONS = [
  'campaigns:read',
  'campaigns:write',
  'tasks:read',
  'tasks:write',
  'resources:read',
  'resources:write',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export interface Principal {
  tenantId: string;
  permissions: ReadonlySet<Permission>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: Permission;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Finds the tenant a presented key acts for. Keys are compared as SHA-256 digests with
 * timingSafeEqual against every configured key, without stopping at a match, so neither the
 * key's length nor its position leaks through response time.
 */
export class ApiKeyRing {
  private readonly keys: ReadonlyArray<{ digest: Buffer; tenantId: string }>;

  constructor(apiKeys: ReadonlyArray<{ key: string; tenantId: string }>) {
    this.keys = apiKeys
      .filter((k) => k.key.length > 0)
      .map((k) => ({ digest: digest(k.key), tenantId: k.tenantId }));
  }

  tenantOf(presented: string): string | undefined {
    const presentedDigest = digest(presented);
    let tenantId: string | undefined;
    for (const key of this.keys) {
      if (timingSafeEqual(key.digest, presentedDigest) && tenantId === undefined) tenantId = key.tenantId;
    }
    return tenantId;
  }

  tenantIds(): string[] {
    return [...new Set(this.keys.map((k) => k.tenantId))];
  }
}

/** Bootstrap keys act with every permission until roles arrive. */
function permissionsOf(_tenantId: string): ReadonlySet<Permission> {
  return new Set(PERMISSIONS);
}

function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header.length > 0 ? header : undefined;
}

/** onRequest hook for /v1: identifies the caller, then checks the route's permission. */
export function authenticate(keyRing: ApiKeyRing) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const key = presentedKey(request);
    const tenantId = key === undefined ? undefined : keyRing.tenantOf(key);
    if (tenantId === undefined) {
      throw new ProblemError(401, 'unauthorized', 'send a valid API key as "Authorization: Bearer <key>"');
    }
    const principal = { tenantId, permissions: permissionsOf(tenantId) };
    const needed = request.routeOptions.config.permission;
    // Fail closed: a route that forgot to name its permission is refused, not opened.
    if (needed === undefined || !principal.permissions.has(needed)) {
      throw new ProblemError(403, 'forbidden', `this key lacks the ${needed ?? 'required'} permission`);
    }
    request.principal = principal;
  };
}

/** The caller of an authenticated route; the auth hook guarantees it is set. */
export function tenantOf(request: FastifyRequest): string {
  if (!request.principal) throw new Error('route reached without authentication');
  return request.principal.tenantId;
}
