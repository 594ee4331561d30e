import { type Static, Type } from '@sinclair/typebox';
import { NUMBER_FORMATS } from '../../domain/resources.js';
import { DEFAULT_DIAL_TEMPLATE } from '../../intake/dial-template.js';
import { CallerId, Id, Instant, Literals, Nullable, Version } from './common.js';

/** Names travel into FreeSWITCH commands (`sofia/gateway/<name>`), hence the narrow alphabet. */
const ResourceName = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' });

const Stamps = { createdAt: Instant, updatedAt: Instant, version: Type.Integer() };

export const SwitchInputSchema = Type.Object(
  {
    name: ResourceName,
    eslHost: Type.String({ minLength: 1, maxLength: 253, description: 'Hostname or IP address' }),
    eslPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535, default: 8021 })),
    eslPassword: Type.Optional(
      Type.String({
        pattern: '^[\\x21-\\x7e]{1,128}$',
        description: 'Write-only; required on create, kept when omitted on update. Printable, no spaces',
      }),
    ),
    maxSessions: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    maxCaps: Type.Integer({ minimum: 1, maximum: 100_000 }),
    enabled: Type.Optional(Type.Boolean({ default: true })),
    allowDefaultPassword: Type.Optional(
      Type.Boolean({
        description:
          "Accept FreeSWITCH's default ESL password (ClueCon) on a non-loopback host; without it that is a 400 default_esl_password. Not stored: needed on every such write",
      }),
    ),
    version: Type.Optional(Version),
  },
  { additionalProperties: false },
);
export type SwitchInputBody = Static<typeof SwitchInputSchema>;

export const SwitchSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    eslHost: Type.String(),
    eslPort: Type.Integer(),
    eslPasswordSet: Type.Boolean(),
    maxSessions: Type.Integer(),
    maxCaps: Type.Integer(),
    enabled: Type.Boolean(),
    ...Stamps,
  },
  { title: 'Switch' },
);

const OptionalLimit = Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1_000_000 })));

export const GatewayInputSchema = Type.Object(
  {
    name: ResourceName,
    switchIds: Type.Array(Id, { minItems: 1, maxItems: 1000, uniqueItems: true }),
    maxCaps: OptionalLimit,
    maxConcurrent: OptionalLimit,
    enabled: Type.Optional(Type.Boolean({ default: true })),
    version: Type.Optional(Version),
  },
  { additionalProperties: false },
);
export type GatewayInputBody = Static<typeof GatewayInputSchema>;

export const GatewaySchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    switchIds: Type.Array(Type.String()),
    maxCaps: Nullable(Type.Integer()),
    maxConcurrent: Nullable(Type.Integer()),
    enabled: Type.Boolean(),
    ...Stamps,
  },
  { title: 'Gateway' },
);

export const LineInputSchema = Type.Object(
  {
    name: ResourceName,
    gatewayId: Id,
    dialTemplate: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        default: DEFAULT_DIAL_TEMPLATE,
        description: 'Placeholders {gateway} and {number} ({number} required); literals [A-Za-z0-9_./@:+-]',
      }),
    ),
    numberFormat: Type.Optional(Literals(NUMBER_FORMATS)),
    callerIds: Type.Optional(Type.Array(CallerId, { maxItems: 1000 })),
    caps: Type.Integer({ minimum: 1, maximum: 10_000 }),
    maxConcurrent: Type.Integer({ minimum: 1, maximum: 100_000 }),
    weight: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        default: 1,
        description: 'Share under the weighted strategy',
      }),
    ),
    callerIdCaps: Type.Optional(
      Nullable(
        Type.Integer({ minimum: 1, maximum: 10_000, description: "The carrier's CAPS per caller id" }),
      ),
    ),
    callerIdMaxConcurrent: Type.Optional(
      Nullable(
        Type.Integer({
          minimum: 1,
          maximum: 100_000,
          description: "The carrier's concurrent calls per caller id",
        }),
      ),
    ),
    tenantId: Type.Optional(Nullable(Id)),
    enabled: Type.Optional(Type.Boolean({ default: true })),
    version: Type.Optional(Version),
  },
  { additionalProperties: false },
);
export type LineInputBody = Static<typeof LineInputSchema>;

export const LineSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    gatewayId: Type.String(),
    dialTemplate: Type.String(),
    numberFormat: Literals(NUMBER_FORMATS),
    callerIds: Type.Array(Type.String()),
    caps: Type.Integer(),
    maxConcurrent: Type.Integer(),
    weight: Type.Integer(),
    callerIdCaps: Nullable(Type.Integer()),
    callerIdMaxConcurrent: Nullable(Type.Integer()),
    healthOverride: Nullable(Literals(['in', 'out'] as const)),
    tenantId: Nullable(Type.String()),
    enabled: Type.Boolean(),
    ...Stamps,
  },
  { title: 'Line' },
);
