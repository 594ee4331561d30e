import { FormatRegistry, type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { InvalidPhoneNumberError, maskPhoneNumber, parsePhoneNumber } from '../domain/phone-number.js';
import type { Campaign } from '../domain/resources.js';
import type { NumberVault } from '../security/number-vault.js';
import type { DestinationPolicy, NewTask } from '../store/contract.js';
import { DEFAULT_DESTINATION_POLICY, destinationRefusal } from './destination-policy.js';
import { isRfc3339, parseInstant } from './timestamps.js';

// TypeBox checks formats through a process-wide registry; setting the same checker twice is harmless.
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', isRfc3339);

export const MAX_VARIABLES = 50;
export const VARIABLE_NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_]{0,63}$';

/** One task as a business submits it (alone or as one item of a batch). */
export const TaskInputSchema = Type.Object(
  {
    number: Type.String({
      minLength: 1,
      maxLength: 32,
      description: 'E.164 (`+8613800000001`) or national digits read in the campaign default region',
    }),
    variables: Type.Optional(
      Type.Record(Type.String({ pattern: VARIABLE_NAME_PATTERN }), Type.String({ maxLength: 1024 }), {
        maxProperties: MAX_VARIABLES,
        additionalProperties: false,
        description: 'Values handed to the call flow; names match ^[A-Za-z][A-Za-z0-9_]{0,63}$',
      }),
    ),
    priority: Type.Optional(Type.Integer({ minimum: -100, maximum: 100, default: 0 })),
    notBefore: Type.Optional(
      Type.String({ format: 'date-time', description: 'RFC 3339; not dialed before. Default: now' }),
    ),
    expiresAt: Type.Optional(
      Type.String({ format: 'date-time', description: 'RFC 3339; after it the task expires undialed' }),
    ),
    externalRef: Type.Optional(Type.String({ maxLength: 128, description: "The business's own reference" })),
  },
  { additionalProperties: false, title: 'TaskInput' },
);
export type TaskInput = Static<typeof TaskInputSchema>;

const taskInputCheck = TypeCompiler.Compile(TaskInputSchema);

export interface FieldError {
  /** JSON Pointer into the submitted item, e.g. `/variables/name`. */
  path: string;
  message: string;
}

/** Stable per-item codes; the API uses the same ones for a single task's 400. */
export type IntakeErrorCode =
  | 'validation_failed'
  | 'invalid_number'
  | 'destination_denied'
  | 'premium_rate_refused'
  | 'number_suppressed';

export interface IntakeError {
  code: IntakeErrorCode;
  message: string;
  errors: FieldError[];
}

export type IntakeVerdict = { ok: true; task: NewTask } | { ok: false; error: IntakeError };

export interface IntakeContext {
  vault: NumberVault;
  nowMs: number;
  tenantId: string;
  campaign: Pick<Campaign, 'id' | 'defaultRegion'>;
  newTaskId: () => string;
  /** The tenant's fraud guards; premium-rate refused when omitted. */
  destinations?: DestinationPolicy;
}

/** Enough to fix an item without drowning the response in one bad item's errors. */
const MAX_ERRORS_PER_ITEM = 10;

export function schemaErrors(check: { Errors(value: unknown): Iterable<FieldError> }, value: unknown) {
  const errors: FieldError[] = [];
  const seenPaths = new Set<string>();
  for (const error of check.Errors(value)) {
    const path = error.path || '/';
    // TypeBox reports a missing field twice (required, then wrong type): the first says it best.
    if (seenPaths.has(path)) continue;
    seenPaths.add(path);
    errors.push({ path, message: error.message });
    if (errors.length === MAX_ERRORS_PER_ITEM) break;
  }
  return errors;
}

function invalid(code: IntakeError['code'], errors: FieldError[]): IntakeVerdict {
  const first = errors[0];
  const message = first ? `${first.path}: ${first.message}` : 'invalid task';
  return { ok: false, error: { code, message, errors } };
}

/**
 * Checks one submitted task and turns it into a row to store: the number is parsed and
 * validated, then only its ciphertext, blind index and masked form leave this function (R1.10).
 * Error messages never echo the number.
 */
export function intakeTask(input: unknown, context: IntakeContext): IntakeVerdict {
  if (!taskInputCheck.Check(input)) return invalid('validation_failed', schemaErrors(taskInputCheck, input));

  let e164: string;
  try {
    e164 = parsePhoneNumber(input.number, context.campaign.defaultRegion ?? undefined).e164;
  } catch (error) {
    if (error instanceof InvalidPhoneNumberError) {
      return invalid('invalid_number', [{ path: '/number', message: error.message }]);
    }
    throw error;
  }
  const refusal = destinationRefusal(e164, context.destinations ?? DEFAULT_DESTINATION_POLICY);
  if (refusal) return invalid(refusal.code, [{ path: '/number', message: refusal.message }]);

  const { nowMs } = context;
  const notBefore = input.notBefore === undefined ? nowMs : parseInstant(input.notBefore);
  const expiresAt = input.expiresAt === undefined ? null : parseInstant(input.expiresAt);
  if (notBefore === undefined)
    return invalid('validation_failed', [{ path: '/notBefore', message: 'not RFC 3339' }]);
  if (expiresAt === undefined)
    return invalid('validation_failed', [{ path: '/expiresAt', message: 'not RFC 3339' }]);
  if (expiresAt !== null && expiresAt <= nowMs) {
    return invalid('validation_failed', [{ path: '/expiresAt', message: 'must be in the future' }]);
  }
  if (expiresAt !== null && expiresAt <= notBefore) {
    return invalid('validation_failed', [{ path: '/expiresAt', message: 'must be after notBefore' }]);
  }

  return {
    ok: true,
    task: {
      id: context.newTaskId(),
      tenantId: context.tenantId,
      campaignId: context.campaign.id,
      numberSealed: context.vault.encrypt(e164),
      numberIndex: context.vault.index(e164),
      numberMasked: maskPhoneNumber(e164),
      variables: input.variables ?? {},
      priority: input.priority ?? 0,
      // A time in the past means "now": it must not jump ahead of tasks already waiting.
      notBefore: Math.max(notBefore, nowMs),
      expiresAt,
      externalRef: input.externalRef ?? null,
    },
  };
}

/**
 * Moves accepted items whose number was erased with suppression to the rejected ones (the
 * store is asked once per batch, so this runs after the synchronous per-item checks).
 */
export function refuseSuppressed(batch: BatchIntake, suppressed: ReadonlySet<string>): BatchIntake {
  if (suppressed.size === 0) return batch;
  const result: BatchIntake = { accepted: [], rejected: [...batch.rejected] };
  for (const item of batch.accepted) {
    if (suppressed.has(item.task.numberIndex)) {
      result.rejected.push({
        index: item.index,
        error: {
          code: 'number_suppressed',
          message: '/number: this number was erased and may not be imported again',
          errors: [{ path: '/number', message: 'erased and suppressed' }],
        },
      });
    } else result.accepted.push(item);
  }
  result.rejected.sort((a, b) => a.index - b.index);
  return result;
}

export interface BatchIntake {
  /** Valid items, in submission order, with their index in the batch. */
  accepted: { index: number; task: NewTask }[];
  rejected: { index: number; error: IntakeError }[];
}

/** Checks every item on its own: one bad item never rejects its neighbours. */
export function intakeBatch(items: readonly unknown[], context: IntakeContext): BatchIntake {
  const result: BatchIntake = { accepted: [], rejected: [] };
  items.forEach((item, index) => {
    const verdict = intakeTask(item, context);
    if (verdict.ok) result.accepted.push({ index, task: verdict.task });
    else result.rejected.push({ index, error: verdict.error });
  });
  return result;
}
