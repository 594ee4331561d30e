import { type Static, Type } from '@sinclair/typebox';
import { CAMPAIGN_STATUSES, SELECTION_STRATEGIES } from '../../domain/resources.js';
import {
  CallerId,
  Id,
  Instant,
  Literals,
  Nullable,
  PageQueryProperties,
  PartialStrict,
  Version,
} from './common.js';

const DelaySec = Type.Integer({ minimum: 0, maximum: 604_800 });

export const RetryPolicySchema = Type.Object(
  {
    maxAttempts: Type.Integer({ minimum: 1, maximum: 10 }),
    retryDelaySec: Type.Optional(
      // The callee outcomes a campaign may retry (see nextStepAfterAttempt); others are final.
      Type.Object(
        {
          busy: Type.Optional(DelaySec),
          no_answer: Type.Optional(DelaySec),
          rejected: Type.Optional(DelaySec),
          network_failure: Type.Optional(DelaySec),
        },
        {
          additionalProperties: false,
          description:
            'Seconds before the next attempt, per outcome; omitted outcomes keep the default delay',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Calling hours; the zone and times are checked further by validateCallingSchedule. */
export const CallingScheduleSchema = Type.Object(
  {
    timeZone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Asia/Shanghai' }),
    windows: Type.Array(
      Type.Object(
        {
          days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), {
            minItems: 1,
            maxItems: 7,
            description: 'ISO weekdays, 1 = Monday',
          }),
          start: Type.String({ pattern: '^\\d{2}:\\d{2}$', description: 'local HH:MM, inclusive' }),
          end: Type.String({
            pattern: '^\\d{2}:\\d{2}$',
            description: 'local HH:MM, exclusive (24:00 = end of day)',
          }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 28 },
    ),
  },
  { additionalProperties: false, description: 'Calling hours; tasks are held outside them. Null: any time.' },
);

const RegionCode = Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2, e.g. CN, US' });
const PositiveInt = Type.Integer({ minimum: 1, maximum: 1_000_000 });

const campaignFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  weight: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1 })),
  lineIds: Type.Optional(
    Type.Array(Id, { maxItems: 100, uniqueItems: true, description: 'Empty: every line lent to the tenant' }),
  ),
  defaultRegion: Type.Optional(Nullable(RegionCode)),
  callerId: Type.Optional(Nullable(CallerId)),
  retryPolicy: Type.Optional(RetryPolicySchema),
  ringTimeoutSec: Type.Optional(Type.Integer({ minimum: 5, maximum: 120, default: 30 })),
  maxCallDurationSec: Type.Optional(Type.Integer({ minimum: 10, maximum: 14_400, default: 3600 })),
  caps: Type.Optional(Nullable(PositiveInt)),
  maxConcurrent: Type.Optional(Nullable(PositiveInt)),
  schedule: Type.Optional(Nullable(CallingScheduleSchema)),
  selectionStrategy: Type.Optional(
    Literals(SELECTION_STRATEGIES, {
      description: 'How lines and switches are chosen (R3.8); default answer_rate_first',
    }),
  ),
};

export const CampaignCreateSchema = Type.Object(campaignFields, { additionalProperties: false });
export type CampaignCreate = Static<typeof CampaignCreateSchema>;

export const CampaignPatchSchema = PartialStrict(
  Type.Object({ ...campaignFields, version: Version }, { additionalProperties: false }),
);
export type CampaignPatch = Static<typeof CampaignPatchSchema>;

const CountsByTaskStatus = Type.Object({
  queued: Type.Integer(),
  dialing: Type.Integer(),
  completed: Type.Integer(),
  expired: Type.Integer(),
  cancelled: Type.Integer(),
});

export const CampaignStatsSchema = Type.Object({
  byStatus: CountsByTaskStatus,
  byOutcome: Type.Record(Type.String(), Type.Integer()),
});

export const CampaignSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    status: Literals(CAMPAIGN_STATUSES),
    weight: Type.Integer(),
    lineIds: Type.Array(Type.String()),
    defaultRegion: Nullable(Type.String()),
    callerId: Nullable(Type.String()),
    retryPolicy: Type.Object({
      maxAttempts: Type.Integer(),
      retryDelaySec: Type.Record(Type.String(), Type.Integer()),
    }),
    ringTimeoutSec: Type.Integer(),
    maxCallDurationSec: Type.Integer(),
    caps: Nullable(Type.Integer()),
    maxConcurrent: Nullable(Type.Integer()),
    schedule: Nullable(CallingScheduleSchema),
    selectionStrategy: Literals(SELECTION_STRATEGIES),
    createdAt: Instant,
    updatedAt: Instant,
    version: Type.Integer(),
    stats: Type.Optional(CampaignStatsSchema),
  },
  { title: 'Campaign' },
);
export type CampaignView = Static<typeof CampaignSchema>;

export const CampaignListQuery = Type.Object(PageQueryProperties, { additionalProperties: false });
