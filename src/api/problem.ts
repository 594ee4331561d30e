import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, NotFoundError } from '../store/contract.js';

/**
 * Errors leave the API as RFC 9457 problem documents (`application/problem+json`) with a stable
 * `code` that clients may switch on; `title` and `detail` are for people and may change.
 * Every thrown error is turned into one here, in one place, so that routes just throw.
 */
export interface FieldError {
  path: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const TITLES: Record<string, string> = {
  validation_failed: 'The request is not valid',
  invalid_number: 'The phone number is not valid',
  malformed_json: 'The body is not valid JSON',
  unauthorized: 'Valid credentials are required',
  forbidden: 'The caller may not do this',
  not_found: 'Not found',
  conflict: 'The request conflicts with the current state',
  version_conflict: 'The resource changed since the version given',
  task_not_cancellable: 'Only a queued task can be cancelled',
  campaign_cancelled: 'The campaign is cancelled',
  duplicate_task: 'The number already has an open task in this campaign',
  resource_in_use: 'The resource is referenced by another resource',
  name_taken: 'The name is already taken',
  payload_too_large: 'The request is too large',
  unsupported_media_type: 'The body must be application/json',
  bad_request: 'Bad request',
  rate_limited: 'Too many requests for this caller',
  csrf_failed: 'The X-CSRF-Token header is missing or does not match the session',
  invalid_credentials: 'The e-mail or the password is wrong',
  login_throttled: 'Too many failed logins; retry later',
  login_unavailable: 'Logins cannot be checked right now; retry later',
  scheduler_unavailable: 'No scheduler leads the cluster right now; retry later',
  email_taken: 'A user with this e-mail exists',
  default_esl_password: "The switch uses FreeSWITCH's default ESL password",
  tenant_exists: 'A tenant with this id exists',
  destination_denied: "The destination is outside the tenant's allowed destinations",
  premium_rate_refused: 'Premium-rate numbers are not enabled for this tenant',
  number_suppressed: 'The number was erased and may not be imported again',
  internal: 'Internal error',
};

/** An error a route throws on purpose, already carrying its HTTP status and code. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly errors?: FieldError[],
    options?: ErrorOptions,
  ) {
    super(detail, options);
  }
}

export function notFound(what: string): ProblemError {
  return new ProblemError(404, 'not_found', `${what} not found`);
}

export function validationFailed(errors: FieldError[], code = 'validation_failed'): ProblemError {
  const first = errors[0];
  return new ProblemError(400, code, first ? `${first.path}: ${first.message}` : 'invalid request', errors);
}

export function problem(status: number, code: string, detail: string, errors?: FieldError[]): Problem {
  return {
    type: `https://switchboard.dev/problems/${code.replaceAll('_', '-')}`,
    title: TITLES[code] ?? TITLES.bad_request!,
    status,
    detail,
    code,
    ...(errors ? { errors } : {}),
  };
}

const CONFLICT_STATUS: Record<string, number> = { unknown_line: 400 };

/** Fastify's own errors that a client causes, by their code. */
const FASTIFY_CODES: Record<string, { status: number; code: string; detail?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'malformed_json',
    detail: 'the body is not valid JSON',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'malformed_json', detail: 'the JSON body is empty' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'bad_request' },
};

export function toProblem(error: unknown): Problem {
  if (error instanceof ProblemError) return problem(error.status, error.code, error.message, error.errors);
  if (error instanceof NotFoundError) return problem(404, 'not_found', error.message);
  if (error instanceof ConflictError) {
    return problem(CONFLICT_STATUS[error.code] ?? 409, error.code, error.message);
  }
  const fastifyError = error as Partial<FastifyError>;
  const known = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (known) return problem(known.status, known.code, known.detail ?? fastifyError.message ?? known.code);
  if (fastifyError.validation) {
    const errors = fastifyError.validation.map((e) => ({
      path: e.instancePath || '/',
      message: e.message ?? '',
    }));
    return problem(400, 'validation_failed', fastifyError.message ?? 'invalid request', errors);
  }
  // Other client errors raised by Fastify carry safe messages; anything else is ours and stays private.
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return problem(status, 'bad_request', fastifyError.message ?? 'bad request');
  }
  return problem(500, 'internal', 'the server failed to handle the request; it has been logged');
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const body = toProblem(error);
  if (body.code === 'unauthorized') reply.header('www-authenticate', 'Bearer');
  if (body.status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: body.code, status: body.status }, 'request refused');
  return sendProblem(reply, body);
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(
    reply,
    problem(404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`),
  );
}
