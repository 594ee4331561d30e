import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Console sessions. The id is 256 random bits, lives only in the browser's `sb_session` cookie
 * (HttpOnly, so page scripts never read it) and is stored as its SHA-256: a copy of the database
 * opens no session. The CSRF token is an HMAC of the literal "csrf" under the session id: bound to
 * that session, derivable only by someone holding the id (the server), and never stored.
 */
export const SESSION_COOKIE = 'sb_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface SessionTimes {
  /** A session unused this long ends. */
  idleMs: number;
  /** A session ends this long after login, whatever its activity. */
  absoluteMs: number;
}

export const DEFAULT_SESSION_TIMES: SessionTimes = { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 };

export interface NewSessionId {
  /** Goes into the cookie, never into storage. */
  id: string;
  idHash: string;
}

export function hashSessionId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

export function generateSessionId(): NewSessionId {
  const id = randomBytes(32).toString('base64url');
  return { id, idHash: hashSessionId(id) };
}

export function csrfTokenFor(sessionId: string): string {
  return createHmac('sha256', sessionId).update('csrf').digest('base64url');
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function isCsrfTokenValid(sessionId: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const expected = Buffer.from(csrfTokenFor(sessionId));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The value of one cookie in a Cookie header (RFC 6265 `name=value; name=value`), if present. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}

/**
 * The Set-Cookie value. SameSite=Strict keeps the browser from sending it on any cross-site
 * request; Secure is added when the request came over TLS (directly, or per a trusted proxy's
 * X-Forwarded-Proto), so a plain-HTTP local install still works.
 */
export function sessionCookie(value: string, options: { maxAgeSec: number; secure: boolean }): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSec))}`,
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}
