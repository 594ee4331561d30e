import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hashApiKey } from '../security/api-keys.js';
import { isPlatformScoped, isRole, type Permission, permissionsOf, type Role } from '../security/rbac.js';
import type { SessionTimes } from '../security/sessions.js';
import type { Store } from '../store/contract.js';
import { ProblemError } from './problem.js';
import type { ApiRateLimit } from './rate-limit.js';
import { assertCsrf, identifySession, presentedSessionId } from './session-auth.js';

export type { Permission, Role } from '../security/rbac.js';

/**
 * Who is calling: the tenant and role, and how audit entries name them. A console session is a
 * principal of its user's role and tenant, checked by the same permission table as a key.
 */
export interface Principal {
  tenantId: string;
  role: Role;
  permissions: ReadonlySet<Permission>;
  /** `bootstrap:<tenant>` for a configured key, `key:<id>` for an API key, `user:<id>` for a session. */
  actor: string;
  /** Keys made through the API and sessions are rate-limited; the configured bootstrap keys are not. */
  rateLimited: boolean;
  via: 'bootstrap' | 'api_key' | 'session';
  /** Sessions only: what logout and `GET /v1/session` need. */
  session?: { idHash: string; userId: string; csrfToken: string; expiresAt: number };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: Permission;
    /** Reachable without credentials (login only); stated explicitly, never by omission. */
    public?: true;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The bootstrap keys from configuration: each acts as platform_admin for its tenant. Keys are
 * compared as SHA-256 digests with timingSafeEqual against every configured key, without
 * stopping at a match, so neither the key's length nor its position leaks through response time.
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

function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header.length > 0 ? header : undefined;
}

/** last_used_at is written at most this often per key, so reads do not turn into writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

const UNAUTHORIZED = 'send a valid API key as "Authorization: Bearer <key>", or log in (POST /v1/session)';

async function identify(
  presented: string,
  keyRing: ApiKeyRing,
  store: Store,
  nowMs: number,
): Promise<Principal | undefined> {
  const bootstrapTenant = keyRing.tenantOf(presented);
  if (bootstrapTenant !== undefined) {
    return {
      tenantId: bootstrapTenant,
      role: 'platform_admin',
      permissions: permissionsOf('platform_admin'),
      actor: `bootstrap:${bootstrapTenant}`,
      // The operator's own credential from config (the demo and the platform's own client use
      // it in tight loops); a leaked one is a full compromise that a rate limit would not bound.
      rateLimited: false,
      via: 'bootstrap',
    };
  }
  // The lookup is by the hash of a 256-bit secret: its timing tells nothing about other keys.
  const record = await store.apiKeys.findByHash(hashApiKey(presented));
  if (!record || record.revokedAt !== null || !isRole(record.role)) return undefined;
  if (record.lastUsedAt === null || nowMs - record.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
    await store.apiKeys.touch(record.id, nowMs);
  }
  return {
    tenantId: record.tenantId,
    role: record.role,
    permissions: permissionsOf(record.role),
    actor: `key:${record.id}`,
    rateLimited: true,
    via: 'api_key',
  };
}

export interface AuthContext {
  keyRing: ApiKeyRing;
  store: Store;
  clock: () => number;
  rateLimit: ApiRateLimit | undefined;
  sessionTimes: SessionTimes;
}

/**
 * onRequest hook for /v1: identifies the caller — by API key when the request presents one
 * (a cookie is then ignored), else by the session cookie, with its CSRF check — applies its rate
 * limit (shared by every api process; it fails open, see rate-limit.ts), then checks the route's
 * permission, failing closed when a route names none.
 */
export function authenticate({ keyRing, store, clock, rateLimit, sessionTimes }: AuthContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.routeOptions.config.public === true) return;
    const key = presentedKey(request);
    const sessionId = key === undefined ? presentedSessionId(request) : undefined;
    const now = clock();
    const principal =
      key !== undefined
        ? await identify(key, keyRing, store, now)
        : sessionId !== undefined
          ? await identifySession(sessionId, store, sessionTimes, now)
          : undefined;
    if (principal === undefined) throw new ProblemError(401, 'unauthorized', UNAUTHORIZED);
    if (sessionId !== undefined) assertCsrf(request, sessionId);
    if (rateLimit && principal.rateLimited) {
      const waitMs = await rateLimit.waitMs(principal.actor, request.log);
      if (waitMs > 0) {
        reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
        throw new ProblemError(429, 'rate_limited', 'too many requests for this caller; retry later');
      }
    }
    const needed = request.routeOptions.config.permission;
    if (needed === undefined || !principal.permissions.has(needed)) {
      throw new ProblemError(
        403,
        'forbidden',
        `the ${principal.role} role lacks ${needed ?? 'a permission'}`,
      );
    }
    request.principal = principal;
  };
}

/** The caller of an authenticated route; the auth hook guarantees it is set. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('route reached without authentication');
  return request.principal;
}

export function tenantOf(request: FastifyRequest): string {
  return principalOf(request).tenantId;
}

/**
 * The tenant a request acts on: the caller's own, or — for a platform admin only — the one it
 * names. Another tenant named by anyone else reads as not found, like every foreign object.
 */
export async function targetTenant(
  request: FastifyRequest,
  store: Store,
  requested: string | undefined,
): Promise<string> {
  const principal = principalOf(request);
  if (requested === undefined || requested === principal.tenantId) return principal.tenantId;
  if (!isPlatformScoped(principal.role) || !(await store.tenants.get(requested))) {
    throw new ProblemError(404, 'not_found', 'tenant not found');
  }
  return requested;
}
