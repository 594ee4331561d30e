import { type Static, Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  CALL_RECORD_LIMITS,
  CallRecordError,
  type CallRecordErrorCode,
  parseCallRecordPost,
} from '../../domain/call-record.js';
import { hashServiceToken, type InternalRole, isInternalRole } from '../../security/service-tokens.js';
import type { CallRecordRepository } from '../../store/call-record-contract.js';
import type { ServiceTokenRepository } from '../../store/contract.js';
import type { ApiApp } from '../options.js';
import { PROBLEM_CONTENT_TYPE, ProblemError, problem } from '../problem.js';
import { withProblems } from '../schemas/common.js';

/** The service roles a switch's `cred` may carry. */
const CDR_ROLES: readonly InternalRole[] = ['worker'];
const LAST_USED_RESOLUTION_MS = 60_000;
/** Both schemes are offered: mod_json_cdr's `cred` can only do Basic (or digest, NTLM…). */
const CHALLENGE = 'Basic realm="switchboard-internal", charset="UTF-8", Bearer';

export interface CallRecordStore {
  readonly serviceTokens: ServiceTokenRepository;
  /** Absent until the store holds call records: the route then answers 503 (the switch retries). */
  readonly callRecords?: CallRecordRepository;
}

const CdrQuery = Type.Object(
  { uuid: Type.Optional(Type.String({ maxLength: 64, description: 'Appended by mod_json_cdr' })) },
  { additionalProperties: true },
);

const CdrAccepted = Type.Object({
  callUuid: Type.String(),
  stored: Type.Union([Type.Literal('new'), Type.Literal('duplicate'), Type.Literal('ignored')], {
    description:
      'new: stored now; duplicate: this call was stored before (nothing changed); ignored: not a call the platform placed (no sb_attempt), not kept',
  }),
});

/**
 * The service token from `Authorization: Bearer <token>` or `Authorization: Basic
 * base64(<any user>:<token>)` — the second is what mod_json_cdr's `cred = "user:token"` sends.
 */
function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 || colon === decoded.length - 1 ? undefined : decoded.slice(colon + 1);
}

function refuse(reply: FastifyReply, status: 401 | 403, code: string, detail: string): FastifyReply {
  if (status === 401) reply.header('www-authenticate', CHALLENGE);
  return reply
    .code(status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(problem(status, code, detail));
}

const STATUS_OF: Record<CallRecordErrorCode, number> = {
  unsupported_encoding: 415,
  too_large: 413,
  malformed_body: 400,
  missing_field: 400,
  invalid_field: 400,
  ambiguous_document: 400,
  uuid_mismatch: 400,
};

function problemOf(error: CallRecordError): ProblemError {
  const status = STATUS_OF[error.code];
  if (status === 415) return new ProblemError(415, 'unsupported_media_type', error.message);
  if (status === 413) return new ProblemError(413, 'payload_too_large', error.message);
  return new ProblemError(
    400,
    'invalid_call_record',
    error.message,
    error.field === undefined ? undefined : [{ path: error.field, message: error.code }],
  );
}

/**
 * POST /internal/v1/cdr: call records from the switches, as FreeSWITCH's mod_json_cdr posts them (any
 * `encode`: JSON, form, base64). A record is answered 2xx only once it is durable; a re-post of a
 * stored call is a 200 that changes nothing. Only the fields of CallRecord are kept — never the
 * document, which holds the dialed number in several places. Registered in a scope of its own:
 * its auth takes Basic as well as Bearer, and it reads bodies that are not JSON.
 */
export function callRecordRoutes(app: ApiApp, store: CallRecordStore, clock: () => number): void {
  app.addHook('onRequest', async (request, reply) => {
    const token = tokenOf(request);
    const record =
      token === undefined ? undefined : await store.serviceTokens.findByHash(hashServiceToken(token));
    if (!record || record.revokedAt !== null || !isInternalRole(record.role)) {
      return refuse(
        reply,
        401,
        'unauthorized',
        'call records take a service token, as Bearer or as the Basic password',
      );
    }
    if (!CDR_ROLES.includes(record.role)) {
      return refuse(reply, 403, 'forbidden', `the ${record.role} service role may not post call records`);
    }
    const now = clock();
    if (record.lastUsedAt === null || now - record.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
      await store.serviceTokens.touch(record.id, now);
    }
    return undefined;
  });

  // Every body arrives as text: the domain parser tells the encodings apart and refuses the rest.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'string', bodyLimit: CALL_RECORD_LIMITS.maxBodyBytes },
    (_request, body, done) => done(null, body),
  );

  app.post(
    '/internal/v1/cdr',
    {
      bodyLimit: CALL_RECORD_LIMITS.maxBodyBytes,
      schema: {
        tags: ['internal'],
        security: [{ serviceToken: [] }],
        summary: 'A call record (CDR) from a switch, as FreeSWITCH mod_json_cdr posts it',
        description:
          'Service token (worker role) as Bearer, or as the password of HTTP Basic (mod_json_cdr cred = "<any>:<token>"). Body: application/json, application/x-www-form-urlencoded (cdr=…) or application/x-www-form-base64-encoded (cdr=…), ≤ 1 MiB.',
        querystring: CdrQuery,
        response: withProblems({ 200: CdrAccepted, 201: CdrAccepted }),
      },
    },
    async (request, reply): Promise<Static<typeof CdrAccepted>> => {
      const repository = store.callRecords;
      if (!repository) {
        throw new ProblemError(503, 'call_records_unavailable', 'this store does not keep call records yet');
      }
      let parsed: ReturnType<typeof parseCallRecordPost>;
      try {
        parsed = parseCallRecordPost({
          contentType: request.headers['content-type'],
          body: typeof request.body === 'string' ? request.body : '',
          queryUuid: request.query.uuid,
        });
      } catch (error) {
        throw error instanceof CallRecordError ? problemOf(error) : error;
      }
      if (parsed.attemptId === null) {
        // Another call on a shared switch: acknowledged, so the switch does not retry it, and dropped.
        return { callUuid: parsed.callUuid, stored: 'ignored' };
      }
      const [isNew] = await repository.put([parsed], clock());
      reply.code(isNew ? 201 : 200);
      return { callUuid: parsed.callUuid, stored: isNew ? 'new' : 'duplicate' };
    },
  );
}
