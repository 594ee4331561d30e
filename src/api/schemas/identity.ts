import { Type } from '@sinclair/typebox';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../security/passwords.js';
import { ROLES } from '../../security/rbac.js';
import { INTERNAL_ROLES } from '../../security/service-tokens.js';
import { Instant, Literals, Nullable, PartialStrict } from './common.js';

/** Shape only; whether the mailbox exists is not the API's business. Compared lower-cased. */
const Email = Type.String({ minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' });
const TenantId = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' });
const NewPassword = Type.String({
  minLength: PASSWORD_MIN_LENGTH,
  maxLength: PASSWORD_MAX_LENGTH,
  description: `${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`,
});

export const LoginSchema = Type.Object(
  {
    email: Email,
    // Any length the policy ever allowed may log in; the cap keeps hashing work bounded.
    password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
  },
  { additionalProperties: false },
);

export const UserSchema = Type.Object(
  {
    id: Type.String(),
    tenantId: Type.String(),
    email: Type.String(),
    role: Type.String(),
    disabled: Type.Boolean(),
    createdBy: Type.String(),
    createdAt: Instant,
    updatedAt: Instant,
    lastLoginAt: Nullable(Instant),
    version: Type.Integer(),
  },
  { title: 'User' },
);

export const SessionSchema = Type.Object(
  {
    via: Literals(['bootstrap', 'api_key', 'session'] as const),
    tenantId: Type.String(),
    role: Type.String(),
    actor: Type.String(),
    permissions: Type.Array(Type.String()),
    user: Nullable(UserSchema),
    csrfToken: Nullable(
      Type.String({
        description: 'Send as X-CSRF-Token on every POST/PUT/PATCH/DELETE made with the cookie',
      }),
    ),
    expiresAt: Nullable(Instant),
  },
  { title: 'Session' },
);

export const UserCreateSchema = Type.Object(
  {
    email: Email,
    password: NewPassword,
    role: Literals(ROLES),
    tenantId: Type.Optional(TenantId),
  },
  { additionalProperties: false },
);

export const UserPatchSchema = PartialStrict(
  Type.Object(
    {
      role: Literals(ROLES),
      password: NewPassword,
      disabled: Type.Boolean({ description: 'A disabled user cannot log in; its sessions end' }),
    },
    { additionalProperties: false },
  ),
);

export const PingSchema = Type.Object({
  role: Literals(INTERNAL_ROLES),
  tokenId: Type.String(),
});
