import { type Static, Type } from '@sinclair/typebox';
import { ROLES } from '../../security/rbac.js';
import { Id, Instant, Literals, Nullable, PartialStrict, Version } from './common.js';

/** Tenant ids travel in keys' scopes and audit entries: the same alphabet as the config's. */
const TenantId = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' });
const Limit = Nullable(Type.Integer({ minimum: 1, maximum: 10_000_000 }));
const E164Prefix = Type.String({
  pattern: '^\\+[0-9]{1,15}$',
  description: 'An E.164 prefix, e.g. +86 or +4420',
});
const Prefixes = Type.Array(E164Prefix, { maxItems: 1000, uniqueItems: true });

const LimitsSchema = Type.Object(
  {
    maxCaps: Type.Optional(Limit),
    maxConcurrent: Type.Optional(Limit),
    maxDailyAttempts: Type.Optional(Limit),
  },
  {
    additionalProperties: false,
    description:
      'Tenant-wide ceilings enforced by the scheduler: call attempts per second, concurrent calls, attempts per UTC day (null: none)',
  },
);

const DestinationsSchema = Type.Object(
  {
    allowPrefixes: Type.Optional(Prefixes),
    denyPrefixes: Type.Optional(Prefixes),
    allowPremiumRate: Type.Optional(Type.Boolean()),
  },
  {
    additionalProperties: false,
    description:
      'Checked per task at intake: deny wins; an empty allow list allows all; premium-rate refused unless allowed',
  },
);

export const TenantCreateSchema = Type.Object(
  {
    id: TenantId,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    weight: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        default: 1,
        description: 'Share of dispatch against other tenants',
      }),
    ),
    limits: Type.Optional(LimitsSchema),
    destinations: Type.Optional(DestinationsSchema),
  },
  { additionalProperties: false },
);
export type TenantCreate = Static<typeof TenantCreateSchema>;

export const TenantPatchSchema = PartialStrict(
  Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 200 }),
      weight: Type.Integer({ minimum: 1, maximum: 1000 }),
      limits: LimitsSchema,
      destinations: DestinationsSchema,
      version: Version,
    },
    { additionalProperties: false },
  ),
);
export type TenantPatch = Static<typeof TenantPatchSchema>;

export const TenantSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    weight: Type.Integer(),
    limits: Type.Object({
      maxCaps: Nullable(Type.Integer()),
      maxConcurrent: Nullable(Type.Integer()),
      maxDailyAttempts: Nullable(Type.Integer()),
    }),
    destinations: Type.Object({
      allowPrefixes: Type.Array(Type.String()),
      denyPrefixes: Type.Array(Type.String()),
      allowPremiumRate: Type.Boolean(),
    }),
    createdAt: Instant,
    updatedAt: Instant,
    version: Type.Integer(),
  },
  { title: 'Tenant' },
);

export const TenantIdParams = Type.Object({ id: TenantId }, { additionalProperties: false });

export const ApiKeyCreateSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: Literals(ROLES),
    tenantId: Type.Optional(TenantId),
  },
  { additionalProperties: false },
);

export const ApiKeySchema = Type.Object(
  {
    id: Type.String(),
    tenantId: Type.String(),
    name: Type.String(),
    role: Type.String(),
    prefix: Type.String({ description: 'The first characters of the key, to tell keys apart' }),
    createdBy: Type.String(),
    createdAt: Instant,
    revokedAt: Nullable(Instant),
    lastUsedAt: Nullable(Instant),
  },
  { title: 'ApiKey' },
);

export const CreatedApiKeySchema = Type.Object(
  {
    ...ApiKeySchema.properties,
    key: Type.String({ description: 'The secret, shown this once: it is stored only as a hash' }),
  },
  { title: 'CreatedApiKey' },
);

export const TenantQuery = Type.Object(
  { tenantId: Type.Optional(TenantId) },
  { additionalProperties: false },
);

export const AuditQuery = Type.Object(
  {
    tenantId: Type.Optional(TenantId),
    afterSeq: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

export const AuditEntrySchema = Type.Object(
  {
    seq: Type.Integer(),
    id: Type.String(),
    at: Instant,
    actor: Type.String(),
    tenantId: Nullable(Type.String()),
    sourceIp: Nullable(Type.String()),
    action: Type.String(),
    target: Nullable(Type.String()),
    before: Type.Unknown({ description: 'State before (masked), or null' }),
    after: Type.Unknown({ description: 'State after (masked), or null' }),
    prevHash: Type.String(),
    hash: Type.String(),
  },
  { title: 'AuditEntry' },
);

export const AuditPageSchema = Type.Object({
  items: Type.Array(AuditEntrySchema),
  nextAfterSeq: Nullable(
    Type.Integer({ description: 'Pass as ?afterSeq= for the next page; null on the last' }),
  ),
});

export const ErasureSchema = Type.Object(
  {
    by: Literals(['number', 'task', 'tenant'] as const),
    number: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 32,
        description: 'With by=number: E.164, or national digits with region',
      }),
    ),
    region: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
    taskId: Type.Optional(Id),
    tenantId: Type.Optional(TenantId),
    suppress: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Keep the blind index of the erased numbers so intake refuses them (number_suppressed)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ErasureReportSchema = Type.Object(
  {
    by: Type.String(),
    tenantId: Type.String(),
    erased: Type.Object({
      tasks: Type.Integer(),
      attempts: Type.Integer(),
      callRecords: Type.Integer(),
      campaignsCancelled: Type.Integer(),
    }),
    suppressed: Type.Integer(),
    auditSeq: Type.Integer(),
  },
  { title: 'ErasureReport' },
);
