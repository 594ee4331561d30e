/**
 * Roles and what they may do: the one place that maps a role to its permissions (R1.10: RBAC
 * with administrator, operator, auditor). Every /v1 route names one permission in its config;
 * the auth hook (src/api/auth.ts) checks it against this table, failing closed.
 *
 * Scope is a second, separate question: every role but `platform_admin` sees only its own
 * tenant's data; `platform_admin` additionally manages what is platform-wide (switches,
 * gateways, lines, tenants) and may name another tenant where a route allows it.
 */
export const ROLES = ['platform_admin', 'tenant_admin', 'operator', 'auditor', 'agent'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'campaigns:read',
  'campaigns:write',
  'tasks:read',
  'tasks:write',
  /** Lines lent to the caller's tenant (all lines for a platform admin). */
  'lines:read',
  /** Switches and gateways, and every line. */
  'resources:read',
  'resources:write',
  'tenants:read',
  'tenants:write',
  'api-keys:read',
  'api-keys:write',
  'audit:read',
  'erasures:write',
  /** Console users of the tenant (never their password hashes). */
  'users:read',
  'users:write',
  /** Numbers in clear, in the audited CSV export: the one way a number leaves decrypted. */
  'tasks:export',
  /** See and end one's own session: every role. */
  'session',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const TENANT_READ: readonly Permission[] = [
  'campaigns:read',
  'tasks:read',
  'lines:read',
  'tenants:read',
  'session',
];

const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  platform_admin: PERMISSIONS,
  tenant_admin: [
    ...TENANT_READ,
    'campaigns:write',
    'tasks:write',
    'api-keys:read',
    'api-keys:write',
    'audit:read',
    'erasures:write',
    'users:read',
    'users:write',
    'tasks:export',
  ],
  operator: [...TENANT_READ, 'campaigns:write', 'tasks:write'],
  // Read-only plus the audit log; sees numbers masked like everyone else.
  auditor: [...TENANT_READ, 'api-keys:read', 'users:read', 'audit:read'],
  // Follows the calls it handles: campaigns and tasks, masked, nothing else.
  agent: ['campaigns:read', 'tasks:read', 'session'],
};

const PERMISSION_SETS = new Map<Role, ReadonlySet<Permission>>(
  ROLES.map((role) => [role, new Set(ROLE_PERMISSIONS[role])]),
);

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function permissionsOf(role: Role): ReadonlySet<Permission> {
  return PERMISSION_SETS.get(role)!;
}

/** Platform-scoped callers may reach beyond their own tenant where a route allows it. */
export function isPlatformScoped(role: Role): boolean {
  return role === 'platform_admin';
}

/**
 * Which roles a caller may hand out in a new key or user: never more than it has. Only a
 * platform admin makes platform admins; a tenant admin makes the tenant roles. The same rule
 * says whom a caller may change or delete: a tenant admin never touches a platform admin's
 * account (resetting its password would be an escalation).
 */
export function mayGrant(granter: Role, role: Role): boolean {
  if (granter === 'platform_admin') return true;
  if (granter === 'tenant_admin') return role !== 'platform_admin';
  return false;
}
