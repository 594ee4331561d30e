import type { FastifyRequest } from 'fastify';
import { isRole, permissionsOf } from '../security/rbac.js';
import {
  CSRF_HEADER,
  cookieValue,
  csrfTokenFor,
  hashSessionId,
  isCsrfTokenValid,
  SESSION_COOKIE,
  type SessionTimes,
} from '../security/sessions.js';
import type { Store } from '../store/contract.js';
import type { Principal } from './auth.js';
import { ProblemError } from './problem.js';

/** last_seen_at is written at most this often per session: idle expiry is exact to this much. */
const LAST_SEEN_RESOLUTION_MS = 60_000;

/** The session id from the `sb_session` cookie, if the request carries one of the right shape. */
export function presentedSessionId(request: FastifyRequest): string | undefined {
  const value = cookieValue(request.headers.cookie, SESSION_COOKIE);
  return value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}

/**
 * The principal of a live session: the user's current role and tenant, read on every request
 * (a role change or a disabled account takes effect at once). An expired session is deleted.
 */
export async function identifySession(
  sessionId: string,
  store: Store,
  times: SessionTimes,
  nowMs: number,
): Promise<Principal | undefined> {
  const idHash = hashSessionId(sessionId);
  const found = await store.sessions.find(idHash);
  if (!found) return undefined;
  const { session, user } = found;
  if (nowMs >= session.expiresAt || nowMs - session.lastSeenAt > times.idleMs) {
    await store.sessions.delete(idHash);
    return undefined;
  }
  if (user.disabled || !isRole(user.role)) return undefined;
  if (nowMs - session.lastSeenAt >= LAST_SEEN_RESOLUTION_MS) await store.sessions.touch(idHash, nowMs);
  return {
    tenantId: user.tenantId,
    role: user.role,
    permissions: permissionsOf(user.role),
    actor: `user:${user.id}`,
    rateLimited: true,
    via: 'session',
    session: {
      idHash,
      userId: user.id,
      csrfToken: csrfTokenFor(sessionId),
      expiresAt: Math.min(session.expiresAt, Math.max(session.lastSeenAt, nowMs) + times.idleMs),
    },
  };
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * CSRF defence for cookie-authenticated requests: a browser sends the cookie on its own, so an
 * unsafe request must also prove it was written by our page, by echoing the session's token in
 * `X-CSRF-Token` (which another site cannot read nor set). API-key requests carry no ambient
 * credential and are exempt. SameSite=Strict and JSON-only bodies are further layers, not this one.
 */
export function assertCsrf(request: FastifyRequest, sessionId: string): void {
  if (!UNSAFE_METHODS.has(request.method)) return;
  const header = request.headers[CSRF_HEADER];
  if (!isCsrfTokenValid(sessionId, typeof header === 'string' ? header : undefined)) {
    throw new ProblemError(
      403,
      'csrf_failed',
      'a cookie-authenticated request that changes something needs the X-CSRF-Token given at login',
    );
  }
}
