import { createHash, randomBytes } from 'node:crypto';

/**
 * Service tokens: the credentials of the platform's own processes (the api, scheduler and worker
 * roles of the cluster). They belong to no tenant, open only `/internal/*` routes, and are made
 * on the command line (`switchboard tokens create --role worker`), shown once, stored as SHA-256
 * (256 random bits need no slow hash). The `sbs_` prefix tells them from API keys (`sbk_`) in a
 * config file or a leak scanner.
 */
export const INTERNAL_ROLES = ['api', 'scheduler', 'worker'] as const;
export type InternalRole = (typeof INTERNAL_ROLES)[number];

const PREFIX = 'sbs_';

export function isInternalRole(value: string): value is InternalRole {
  return (INTERNAL_ROLES as readonly string[]).includes(value);
}

export function hashServiceToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function generateServiceToken(): { token: string; hash: string; prefix: string } {
  const token = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashServiceToken(token), prefix: token.slice(0, PREFIX.length + 6) };
}
