import { type Static, Type } from '@sinclair/typebox';
import { ATTEMPT_STATUSES } from '../../domain/attempt.js';
import { OUTCOMES } from '../../domain/outcome.js';
import { TASK_STATUSES } from '../../domain/task.js';
import { TaskInputSchema } from '../../intake/task-intake.js';
import { Id, Instant, Literals, Nullable, PageQueryProperties } from './common.js';

export { TaskInputSchema };

export const TaskBatchSchema = Type.Object(
  {
    tasks: Type.Array(
      // Items are checked one by one against TaskInput (see components), so that one bad item is
      // reported in its result instead of failing the whole batch.
      Type.Unknown({ description: 'A TaskInput' }),
      { description: 'Up to the configured batch limit (10,000 by default); more is a 413' },
    ),
    skipDuplicates: Type.Optional(
      Type.Boolean({
        default: true,
        description: 'Skip numbers with an open task in the campaign or earlier in the batch',
      }),
    ),
  },
  { additionalProperties: false },
);
export type TaskBatch = Static<typeof TaskBatchSchema>;

const ItemError = Type.Object({
  code: Type.String(),
  message: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
});

export const TaskBatchResultSchema = Type.Object({
  counts: Type.Object({
    received: Type.Integer(),
    created: Type.Integer(),
    duplicate: Type.Integer(),
    invalid: Type.Integer(),
  }),
  results: Type.Array(
    Type.Object({
      index: Type.Integer(),
      status: Literals(['created', 'duplicate', 'invalid'] as const),
      id: Type.Optional(Type.String()),
      error: Type.Optional(ItemError),
    }),
  ),
});
export type TaskBatchResult = Static<typeof TaskBatchResultSchema>;

export const AttemptSchema = Type.Object({
  id: Type.String(),
  status: Literals(ATTEMPT_STATUSES),
  workerId: Type.String(),
  switchId: Type.String(),
  gatewayId: Type.String(),
  lineId: Type.String(),
  callerId: Nullable(Type.String()),
  createdAt: Instant,
  originatedAt: Nullable(Instant),
  ringingAt: Nullable(Instant),
  answeredAt: Nullable(Instant),
  endedAt: Nullable(Instant),
  hangupCause: Nullable(Type.String()),
  sipCode: Nullable(Type.Integer()),
  outcome: Nullable(Literals(OUTCOMES)),
  mayHaveReachedCallee: Nullable(Type.Boolean()),
});

export const TaskSchema = Type.Object(
  {
    id: Type.String(),
    campaignId: Type.String(),
    numberMasked: Type.String({ description: 'The number with its middle digits hidden; never in clear' }),
    variables: Type.Record(Type.String(), Type.String()),
    priority: Type.Integer(),
    notBefore: Instant,
    expiresAt: Nullable(Instant),
    status: Literals(TASK_STATUSES),
    version: Type.Integer(),
    attemptCount: Type.Integer(),
    outcome: Nullable(Literals(OUTCOMES)),
    externalRef: Nullable(Type.String()),
    createdAt: Instant,
    updatedAt: Instant,
    attempts: Type.Optional(Type.Array(AttemptSchema)),
  },
  { title: 'Task' },
);
export type TaskView = Static<typeof TaskSchema>;

export const TaskListQuery = Type.Object(
  {
    campaignId: Type.Optional(Id),
    status: Type.Optional(Literals(TASK_STATUSES)),
    outcome: Type.Optional(Literals(OUTCOMES)),
    ...PageQueryProperties,
  },
  { additionalProperties: false },
);
