import { createHash, randomBytes } from 'node:crypto';

/**
 * Per-tenant API keys: 256 random bits, shown to their creator once. Only a SHA-256 of the key
 * is stored: for a secret with this much entropy a fast hash is enough (no dictionary to
 * guess from), and lookups stay one indexed read per request.
 */
const PREFIX = 'sbk_';

export interface NewApiKeySecret {
  /** Shown once, never stored. */
  secret: string;
  hash: string;
  /** Enough to tell keys apart in a list, useless to an attacker. */
  prefix: string;
}

export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function generateApiKey(): NewApiKeySecret {
  const secret = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  return { secret, hash: hashApiKey(secret), prefix: secret.slice(0, PREFIX.length + 6) };
}
