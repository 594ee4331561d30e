import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LoginKeyKind } from '../../coord/rate-limits.js';
import { formatInstant } from '../../intake/timestamps.js';
import type { LoginThrottle } from '../../security/login-throttle.js';
import { DummyPassword, verifyPassword } from '../../security/passwords.js';
import { isRole, permissionsOf } from '../../security/rbac.js';
import {
  csrfTokenFor,
  DEFAULT_SESSION_TIMES,
  generateSessionId,
  sessionCookie,
} from '../../security/sessions.js';
import { auditTrail } from '../audit-trail.js';
import { type Principal, principalOf } from '../auth.js';
import type { ApiApp, ApiOptions } from '../options.js';
import { ProblemError } from '../problem.js';
import { withProblems } from '../schemas/common.js';
import { LoginSchema, SessionSchema } from '../schemas/identity.js';
import { userView } from './users.js';

const TAGS = ['session'];

/** Secure only where the browser reached us over TLS, directly or per a trusted proxy. */
function isTls(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}

function clearCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('set-cookie', sessionCookie('', { maxAgeSec: 0, secure: isTls(request) }));
}

/** Seconds a client is told to wait before trying a login again while the throttle is unreachable. */
const THROTTLE_UNAVAILABLE_RETRY_SEC = 5;

/**
 * The login throttle fails CLOSED: when its counts cannot be read or written (Redis unreachable),
 * no login is decided — 503 `login_unavailable`, whatever the password. Letting logins through
 * would hand an attacker unthrottled guesses for as long as the outage lasts (an outage an
 * attacker may cause), and answering 401 or 200 while the count is not kept would be an oracle.
 * Sessions already open and API keys go on working.
 */
function throttleUnavailable(request: FastifyRequest, reply: FastifyReply, error: unknown): ProblemError {
  request.log.error({ err: error }, 'login throttle unavailable: refusing logins (fails closed)');
  reply.header('retry-after', String(THROTTLE_UNAVAILABLE_RETRY_SEC));
  const detail = 'logins are paused for a moment; retry later';
  return new ProblemError(503, 'login_unavailable', detail, undefined, { cause: error });
}

/**
 * Console login, who-am-I and logout. Login is the one public /v1 route: it answers every
 * failure the same way (401 `invalid_credentials`, same work done for an unknown e-mail), is
 * throttled per account and per address (shared by every api process), and is audited whether
 * it succeeds or not.
 */
export function sessionRoutes(app: ApiApp, options: ApiOptions, throttle: LoginThrottle): void {
  const { store, clock } = options;
  const times = options.sessions ?? DEFAULT_SESSION_TIMES;
  const dummy = new DummyPassword();
  const audit = auditTrail(store, clock);

  async function view(principal: Principal) {
    const user =
      principal.session === undefined
        ? undefined
        : await store.users.get(principal.tenantId, principal.session.userId);
    return {
      via: principal.via,
      tenantId: principal.tenantId,
      role: principal.role,
      actor: principal.actor,
      permissions: [...principal.permissions].sort(),
      user: user ? userView(user) : null,
      csrfToken: principal.session?.csrfToken ?? null,
      expiresAt: principal.session ? formatInstant(principal.session.expiresAt) : null,
    };
  }

  app.post(
    '/v1/session',
    {
      config: { public: true },
      schema: {
        tags: TAGS,
        security: [],
        summary: 'Log in: sets the sb_session cookie and returns the CSRF token for unsafe requests',
        body: LoginSchema,
        response: withProblems({ 200: SessionSchema }),
      },
    },
    async (request, reply) => {
      const now = clock();
      const email = request.body.email.toLowerCase();
      const keys = { account: email, address: request.ip };
      let waitMs: number;
      try {
        waitMs = await throttle.waitMs(keys);
      } catch (error) {
        throw throttleUnavailable(request, reply, error);
      }
      if (waitMs > 0) {
        // Refused before any password is checked; logged, not audited (the failures that led
        // here were), so a flood cannot grow the audit log without bound.
        request.log.info({ code: 'login_throttled' }, 'login throttled');
        reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
        throw new ProblemError(429, 'login_throttled', 'too many failed logins; retry later');
      }
      const user = await store.users.findByEmail(email);
      const passwordOk = user
        ? await verifyPassword(user.passwordHash, request.body.password)
        : await dummy.verify(request.body.password);
      if (!user || !passwordOk || user.disabled || !isRole(user.role)) {
        let locked: LoginKeyKind[] = [];
        let unavailable: ProblemError | undefined;
        try {
          locked = await throttle.failed(keys);
        } catch (error) {
          // The failure is audited all the same; the answer is the outage's.
          unavailable = throttleUnavailable(request, reply, error);
        }
        await audit(request, {
          action: 'session.login_failed',
          actor: 'anonymous',
          tenantId: user?.tenantId ?? null,
          ...(user ? { target: `user:${user.id}` } : {}),
          // The e-mail of an unknown account is not kept: people type passwords into that field.
          after: {
            reason: !user ? 'unknown_user' : user.disabled ? 'disabled' : 'wrong_password',
            ...(locked.length > 0 ? { locked } : {}),
          },
        });
        if (unavailable) throw unavailable;
        throw new ProblemError(401, 'invalid_credentials', 'the e-mail or the password is wrong');
      }
      try {
        await throttle.succeeded(keys);
      } catch (error) {
        // Refused like a failure would be, so 503 tells nothing about the password.
        throw throttleUnavailable(request, reply, error);
      }
      await store.sessions.deleteExpired(now, now - times.idleMs);
      const session = generateSessionId();
      const expiresAt = now + times.absoluteMs;
      await store.sessions.create({ idHash: session.idHash, userId: user.id, createdAt: now, expiresAt });
      await store.users.recordLogin(user.id, now);
      await audit(request, {
        action: 'session.login',
        actor: `user:${user.id}`,
        tenantId: user.tenantId,
        target: `user:${user.id}`,
      });
      reply.header('cache-control', 'no-store');
      reply.header(
        'set-cookie',
        sessionCookie(session.id, { maxAgeSec: times.absoluteMs / 1000, secure: isTls(request) }),
      );
      return view({
        tenantId: user.tenantId,
        role: user.role,
        permissions: permissionsOf(user.role),
        actor: `user:${user.id}`,
        rateLimited: true,
        via: 'session',
        session: {
          idHash: session.idHash,
          userId: user.id,
          csrfToken: csrfTokenFor(session.id),
          expiresAt: Math.min(expiresAt, now + times.idleMs),
        },
      });
    },
  );

  app.get(
    '/v1/session',
    {
      config: { permission: 'session' },
      schema: {
        tags: TAGS,
        summary: 'Who is calling: role, tenant, permissions; for a session also its user and CSRF token',
        response: withProblems({ 200: SessionSchema }),
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return view(principalOf(request));
    },
  );

  app.delete(
    '/v1/session',
    {
      config: { permission: 'session' },
      schema: {
        tags: TAGS,
        summary: 'Log out: ends the session and clears its cookie (nothing to end for an API key)',
        response: withProblems({ 204: Type.Null({ description: 'Logged out' }) }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      if (principal.session) {
        await store.sessions.delete(principal.session.idHash);
        await audit(request, { action: 'session.logout', target: `user:${principal.session.userId}` });
      }
      clearCookie(request, reply);
      return reply.code(204).send(null);
    },
  );
}
