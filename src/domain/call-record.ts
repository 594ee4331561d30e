/**
 * A switch's own record of one call (a CDR), as FreeSWITCH's mod_json_cdr posts it at hang-up:
 * the evidence recovery uses for a call that ended while no worker watched (R3.6, ARCHITECTURE
 * decision 3: "live channel on the switch, events, switch records").
 *
 * What mod_json_cdr 1.10 sends (src/mod/event_handlers/mod_json_cdr, switch_ivr_generate_json_cdr):
 * - one POST per channel, from the channel's reporting state, to `<url>?uuid=<channel uuid>`,
 *   User-Agent `freeswitch-json/1.0`, credentials `cred` ("user:password") as HTTP Basic by default;
 * - the body by the `encode` setting: absent/false → `Content-Type: application/json`, the document
 *   itself; true → `application/x-www-form-urlencoded`, `cdr=<document, %XX-encoded>`; base64 →
 *   `application/x-www-form-base64-encoded`, `cdr=<document, base64>` (not %-encoded: `+`, `/`, `=`
 *   arrive raw);
 * - the document: `core-uuid`, `switchname`, `channel_data` {state, direction, …}, `variables` (every
 *   channel variable as a string — %XX-encoded unless `encode-values` is false, the default being
 *   true), `app_log`, `callflow` (caller profiles with `destination_number`, caller id, times);
 * - success is any 2xx; anything else is retried `retries` times, `delay` seconds apart, then the
 *   document goes to `err-log-dir`.
 *
 * Only a few fields are read, and only those leave this module: no phone number (destination,
 * caller id, SIP URIs, channel name) is ever copied out of the document.
 */
import { classifyHangup } from './hangup-cause.js';
import { isUuid } from './ids.js';
import type { OutcomeVerdict } from './outcome.js';

export interface CallRecord {
  /** The channel's uuid: for our calls the attempt id we sent as `origination_uuid`. */
  callUuid: string;
  /** Our `sb_attempt` channel variable; null on a call the platform did not place. */
  attemptId: string | null;
  /** Our `sb_worker` channel variable: the worker that placed the call. */
  workerTag: string | null;
  /** FreeSWITCH's `switchname` (its hostname unless configured). */
  switchName: string;
  /** The switch process's Core-UUID (changes at each start). */
  coreUuid: string | null;
  hangupCause: string;
  q850: number | null;
  /** The final SIP status (`sip_term_status`, else `proto_specific_hangup_cause` "sip:NNN"). */
  sipCode: number | null;
  startedAtMs: number | null;
  /** Null when the call was never answered. */
  answeredAtMs: number | null;
  endedAtMs: number;
  /** Answered time (0 when unanswered). */
  billsecMs: number;
  durationMs: number | null;
}

/** How mod_json_cdr's `encode` setting shaped the body. */
export type CallRecordEncoding = 'json' | 'form' | 'base64';

export const CALL_RECORD_LIMITS = {
  /** A real CDR is 5–20 KiB; three times that when %-encoded. Bodies above this are refused. */
  maxBodyBytes: 1024 * 1024,
  maxVariables: 4096,
  /** Longest variable value read (the fields read are short; this bounds the work per field). */
  maxFieldChars: 256,
} as const;

export type CallRecordErrorCode =
  | 'unsupported_encoding'
  | 'too_large'
  | 'malformed_body'
  | 'missing_field'
  | 'invalid_field'
  | 'ambiguous_document'
  | 'uuid_mismatch';

/** Why a posted document is not a usable call record. Messages name fields, never their values. */
export class CallRecordError extends Error {
  override readonly name = 'CallRecordError';
  constructor(
    readonly code: CallRecordErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const CONTENT_TYPES: Readonly<Record<string, CallRecordEncoding>> = {
  'application/json': 'json',
  'application/x-www-form-urlencoded': 'form',
  'application/x-www-form-base64-encoded': 'base64',
};

/** The encoding named by a Content-Type header (parameters such as charset ignored). */
export function encodingOf(contentType: string | undefined): CallRecordEncoding | undefined {
  const type = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  return type === undefined ? undefined : CONTENT_TYPES[type];
}

/** A posted body (any of the three encodings) → the JSON text of the document. */
export function documentText(encoding: CallRecordEncoding, body: string): string {
  if (Buffer.byteLength(body, 'utf8') > CALL_RECORD_LIMITS.maxBodyBytes) {
    throw new CallRecordError('too_large', `the body exceeds ${CALL_RECORD_LIMITS.maxBodyBytes} bytes`);
  }
  if (encoding === 'json') return body;
  const value = formField(body, 'cdr');
  if (value === undefined) {
    throw new CallRecordError('missing_field', 'the form body has no cdr= field', 'cdr');
  }
  if (encoding === 'form') return percentDecode(value, true);
  const compact = value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw new CallRecordError('malformed_body', 'the cdr= field is not base64', 'cdr');
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}

/** `name=value` among `&`-separated pairs, the value left encoded (base64 must not be form-decoded). */
function formField(body: string, name: string): string | undefined {
  for (const pair of body.split('&')) {
    const at = pair.indexOf('=');
    if (at !== -1 && pair.slice(0, at).trim() === name) return pair.slice(at + 1);
  }
  return undefined;
}

const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;

/**
 * %XX → bytes → UTF-8 (invalid sequences become U+FFFD). `plusIsSpace` is form decoding: FreeSWITCH
 * itself never sends a raw "+" (switch_url_encode turns it into %2B), other clients may.
 */
function percentDecode(value: string, plusIsSpace: boolean): string {
  if (value.indexOf('%') === -1) return plusIsSpace ? value.replaceAll('+', ' ') : value;
  const bytes = Buffer.allocUnsafe(Buffer.byteLength(value, 'utf8'));
  let length = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x25 && HEX_PAIR.test(value.slice(i + 1, i + 3))) {
      bytes[length++] = Number.parseInt(value.slice(i + 1, i + 3), 16);
      i += 2;
    } else if (code === 0x2b && plusIsSpace) {
      bytes[length++] = 0x20;
    } else if (code < 0x80) {
      bytes[length++] = code;
    } else {
      // A raw non-ASCII character: copy its UTF-8 bytes (a surrogate pair is one code point).
      const char = String.fromCodePoint(value.codePointAt(i)!);
      length += bytes.write(char, length, 'utf8');
      i += char.length - 1;
    }
  }
  return bytes.toString('utf8', 0, length);
}

/** Parses a posted body in any encoding mod_json_cdr can send. `queryUuid` is its `?uuid=`. */
export function parseCallRecordPost(post: {
  contentType: string | undefined;
  body: string;
  queryUuid?: string | undefined;
}): CallRecord {
  const encoding = encodingOf(post.contentType);
  if (encoding === undefined) {
    throw new CallRecordError(
      'unsupported_encoding',
      'Content-Type must be application/json, application/x-www-form-urlencoded or application/x-www-form-base64-encoded',
    );
  }
  let record: CallRecord;
  try {
    record = parseCallRecordDocument(documentText(encoding, post.body));
  } catch (error) {
    if (encoding === 'form' && error instanceof CallRecordError && error.code === 'malformed_body') {
      // switch_url_encode keeps an existing %XX: with encode-values on, the values' own escapes
      // (quotes, CR/LF of SDP) come out of the form decoding raw and break the JSON.
      throw new CallRecordError(
        'malformed_body',
        'the cdr= form field is not valid JSON once decoded; FreeSWITCH cannot encode a document this way with encode-values=true: set encode to false or base64 (or encode-values to false)',
      );
    }
    throw error;
  }
  if (post.queryUuid !== undefined && post.queryUuid.toLowerCase() !== record.callUuid) {
    throw new CallRecordError('uuid_mismatch', "the URL's ?uuid= is not the document's uuid", 'uuid');
  }
  return record;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The JSON text of a mod_json_cdr document → the fields we keep. */
export function parseCallRecordDocument(text: string): CallRecord {
  if (Buffer.byteLength(text, 'utf8') > CALL_RECORD_LIMITS.maxBodyBytes) {
    throw new CallRecordError('too_large', `the document exceeds ${CALL_RECORD_LIMITS.maxBodyBytes} bytes`);
  }
  let document: Json;
  try {
    document = JSON.parse(text) as Json;
  } catch {
    throw new CallRecordError('malformed_body', 'the document is not valid JSON');
  }
  if (!isObject(document)) throw new CallRecordError('malformed_body', 'the document is not a JSON object');
  const variables = document.variables;
  if (!isObject(variables)) {
    throw new CallRecordError('missing_field', 'the document has no variables object', 'variables');
  }
  if (Object.keys(variables).length > CALL_RECORD_LIMITS.maxVariables) {
    throw new CallRecordError('too_large', `more than ${CALL_RECORD_LIMITS.maxVariables} variables`);
  }
  refuseRepeatedFields(text);
  const read = new VariableReader(variables);

  const callUuid = read.text('uuid', { required: true, test: isUuidText })!.toLowerCase();
  const attempt = read.text('sb_attempt', { test: isUuidText });
  // Our worker sends the attempt id as both origination_uuid and sb_attempt: they never differ.
  if (attempt !== null && attempt.toLowerCase() !== callUuid) {
    throw new CallRecordError(
      'invalid_field',
      'variables.sb_attempt: not the uuid of this call',
      'variables.sb_attempt',
    );
  }
  const endedAtMs =
    read.instantMs('end_uepoch', 1e-3) ??
    read.instantMs('end_epoch', 1e3) ??
    missing('variables.end_uepoch', 'the end time');
  const answeredAtMs = read.instantMs('answer_uepoch', 1e-3) ?? read.instantMs('answer_epoch', 1e3);
  const billsecMs = read.spanMs('billmsec', 1) ?? read.spanMs('billsec', 1e3) ?? 0;
  return {
    callUuid,
    attemptId: attempt === null ? null : attempt.toLowerCase(),
    workerTag: read.text('sb_worker', { test: (v) => /^[A-Za-z0-9_-]{1,64}$/.test(v) }),
    switchName: topLevelText(document, 'switchname', /^[\x21-\x7e]{1,255}$/, true)!,
    coreUuid: topLevelText(document, 'core-uuid', /^[0-9A-Fa-f-]{36}$/, false),
    hangupCause: read.text('hangup_cause', {
      required: true,
      test: (v) => /^[A-Z][A-Z0-9_]{0,63}$/.test(v),
    })!,
    q850: read.integer('hangup_cause_q850', 0, 999),
    sipCode: read.integer('sip_term_status', 100, 699) ?? sipCodeOfProtoCause(read),
    startedAtMs: read.instantMs('start_uepoch', 1e-3) ?? read.instantMs('start_epoch', 1e3),
    answeredAtMs,
    endedAtMs,
    billsecMs: answeredAtMs === null ? 0 : billsecMs,
    durationMs: read.spanMs('mduration', 1) ?? read.spanMs('duration', 1e3),
  };
}

/**
 * What the record says about the call, by the same classification the worker applies to
 * CHANNEL_HANGUP_COMPLETE. A CDR exists only for a channel that ran (mod_json_cdr reports from the
 * channel's reporting state), so it is never proof of `not_dialed`.
 */
export function callRecordVerdict(record: CallRecord, knownAnswered = false): OutcomeVerdict {
  return classifyHangup({
    cause: record.hangupCause,
    answered: knownAnswered || record.answeredAtMs !== null,
    channelCreated: true,
    ...(record.sipCode === null ? {} : { sipCode: record.sipCode }),
  });
}

/** The variables read below; FreeSWITCH writes each channel variable once. */
const READ_VARIABLES = [
  'sb_attempt',
  'sb_worker',
  'hangup_cause',
  'hangup_cause_q850',
  'sip_term_status',
  'proto_specific_hangup_cause',
  'start_uepoch',
  'start_epoch',
  'answer_uepoch',
  'answer_epoch',
  'end_uepoch',
  'end_epoch',
  'billmsec',
  'billsec',
  'mduration',
  'duration',
  'switchname',
  'core-uuid',
] as const;

/**
 * A field we read written twice is refused rather than resolved: JSON.parse would silently keep
 * the last, and a value from the far end (a SIP reason phrase, a header) that smuggled in
 * `","hangup_cause":"…` — possible when a %XX-encoded document is decoded once too often — must
 * not decide an outcome. (`uuid` also names the caller profile's uuid; it is checked against the
 * URL's `?uuid=` instead.)
 */
function refuseRepeatedFields(text: string): void {
  for (const name of READ_VARIABLES) {
    const needle = `"${name}":`;
    const first = text.indexOf(needle);
    if (first !== -1 && text.indexOf(needle, first + needle.length) !== -1) {
      throw new CallRecordError('ambiguous_document', `${name} appears more than once in the document`, name);
    }
  }
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isUuidText(value: string): boolean {
  return isUuid(value.toLowerCase());
}

function missing(field: string, what: string): never {
  throw new CallRecordError('missing_field', `${field}: ${what} is missing`, field);
}

function topLevelText(
  document: { [key: string]: Json },
  name: string,
  pattern: RegExp,
  required: boolean,
): string | null {
  const value = document[name];
  if (value === undefined || value === null || value === '') {
    return required ? missing(name, 'a required field') : null;
  }
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new CallRecordError('invalid_field', `${name}: not a valid value`, name);
  }
  return value;
}

/** The SIP code inside `proto_specific_hangup_cause` ("sip:486"), when sip_term_status is absent. */
function sipCodeOfProtoCause(read: VariableReader): number | null {
  const proto = read.text('proto_specific_hangup_cause', { test: () => true });
  const match = proto === null ? null : /^sip:([1-6]\d\d)$/.exec(proto);
  return match ? Number(match[1]) : null;
}

/** Earliest and latest instants believed (2000-01-01 … 2200-01-01): a wrong unit or garbage fails. */
const MIN_INSTANT_MS = 946_684_800_000;
const MAX_INSTANT_MS = 7_258_118_400_000;
const MAX_SPAN_MS = 366 * 86_400_000;

/**
 * Reads `variables.*` as mod_json_cdr wrote them: strings, %XX-encoded when `encode-values` is on
 * (the default) — the fields read here never contain "%" otherwise, so decoding is always safe.
 */
class VariableReader {
  constructor(private readonly variables: { [key: string]: Json }) {}

  text(name: string, rule: { required?: boolean; test: (value: string) => boolean }): string | null {
    const field = `variables.${name}`;
    const raw = this.variables[name];
    if (raw === undefined || raw === null || raw === '') {
      return rule.required ? missing(field, 'a required field') : null;
    }
    if (typeof raw !== 'string') throw new CallRecordError('invalid_field', `${field}: not a string`, field);
    if (raw.length > CALL_RECORD_LIMITS.maxFieldChars) {
      throw new CallRecordError('invalid_field', `${field}: longer than expected`, field);
    }
    const value = percentDecode(raw, false);
    if (!rule.test(value)) throw new CallRecordError('invalid_field', `${field}: not a valid value`, field);
    return value;
  }

  integer(name: string, min: number, max: number): number | null {
    const text = this.text(name, { test: (v) => /^\d{1,16}$/.test(v) });
    if (text === null) return null;
    const value = Number(text);
    return value >= min && value <= max ? value : null;
  }

  /** An epoch instant in ms; `toMs` converts the field's unit. "0" means "never", as in FreeSWITCH. */
  instantMs(name: string, toMs: number): number | null {
    const text = this.text(name, { test: (v) => /^\d{1,19}$/.test(v) });
    if (text === null || /^0+$/.test(text)) return null;
    const value = Math.floor(Number(text) * toMs);
    if (value < MIN_INSTANT_MS || value > MAX_INSTANT_MS) {
      throw new CallRecordError(
        'invalid_field',
        `variables.${name}: not a plausible instant`,
        `variables.${name}`,
      );
    }
    return value;
  }

  spanMs(name: string, toMs: number): number | null {
    const text = this.text(name, { test: (v) => /^\d{1,16}$/.test(v) });
    if (text === null) return null;
    const value = Number(text) * toMs;
    if (value > MAX_SPAN_MS) {
      throw new CallRecordError(
        'invalid_field',
        `variables.${name}: not a plausible duration`,
        `variables.${name}`,
      );
    }
    return value;
  }
}
