/**
 * Everything that goes onto the socket passes through here first (STYLE habit 5). ESL is line
 * based: one CR or LF inside data ends the command early, and two smuggle a second command that
 * FreeSWITCH executes (fixture 71). So data never contains CR or LF, and the few structured fields
 * (uuids, header names, app names) are checked against narrow patterns.
 */
import { EslInputError } from './errors.js';

const JOB_UUID = /^[A-Za-z0-9-]{1,64}$/;
const CHANNEL_UUID = /^[A-Za-z0-9-]{1,64}$/;
const HEADER_NAME = /^[A-Za-z0-9_-]{1,128}$/;
const APP_NAME = /^[a-z_]{1,64}$/;
const HANGUP_CAUSE = /^[A-Z_]{1,64}$/;
const MAX_LINE_BYTES = 16 * 1024;

/** Throws unless `text` is a non-empty single line without control characters (tab allowed). */
export function assertSingleLine(text: string, what: string): void {
  if (text.length === 0) throw new EslInputError(`${what} is empty`);
  if (text.length > MAX_LINE_BYTES) throw new EslInputError(`${what} exceeds ${MAX_LINE_BYTES} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(text)) {
    throw new EslInputError(`${what} contains a line break or control character`);
  }
}

export function assertJobUuid(jobUuid: string): void {
  if (!JOB_UUID.test(jobUuid)) throw new EslInputError('jobUuid must match [A-Za-z0-9-]{1,64}');
}

export function assertChannelUuid(uuid: string): void {
  if (!CHANNEL_UUID.test(uuid)) throw new EslInputError('channel uuid must match [A-Za-z0-9-]{1,64}');
}

export function assertHeaderName(name: string): void {
  if (!HEADER_NAME.test(name)) throw new EslInputError('header name must match [A-Za-z0-9_-]{1,128}');
}

export function assertAppName(name: string): void {
  if (!APP_NAME.test(name)) throw new EslInputError('application name must match [a-z_]{1,64}');
}

export function assertHangupCause(cause: string): void {
  if (!HANGUP_CAUSE.test(cause)) throw new EslInputError('hangup cause must match [A-Z_]{1,64}');
}

/**
 * A phone number as logs may show it: the first digits (country code and a little more) and the
 * last two, the same shape as the platform's own `maskPhoneNumber`, so one call reads the same in
 * every log. Runs of six characters or fewer are masked whole.
 */
export function maskDigitRun(run: string): string {
  if (run.length <= 6) return '*'.repeat(run.length);
  const head = run.startsWith('+') ? 5 : 4;
  const tail = 2;
  return run.slice(0, head) + '*'.repeat(run.length - head - tail) + run.slice(-tail);
}

/**
 * Canonical UUIDs are kept (they are our own attempt, task and job ids, which logs need to join
 * on); any other run of three or more digits, with an optional "+", is masked.
 */
const UUID_OR_DIGIT_RUN = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\+?[0-9]{3,}/gi;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Masks everything in `text` that could be a phone number. Deliberately blunt: an originate line
 * holds the destination in its dial string (in whatever form the line's dial template gives it,
 * e.g. `0086{number}`), may hold numbers in `{…}` variables (caller ids, task variables) and in
 * its positional caller-id argument, and `uuid_transfer` takes a number as destination. Knowing
 * each command's grammar would leave whatever we failed to foresee in clear, so every digit run
 * outside a UUID is masked; a port or a session limit in a debug line is the price.
 */
export function maskNumbers(text: string): string {
  return text.replace(UUID_OR_DIGIT_RUN, (match) => (UUID.test(match) ? match : maskDigitRun(match)));
}

/**
 * The text to log for an outgoing command: the password of `auth`/`userauth` never reaches a log
 * line, nor does any phone number (personal data) — see maskNumbers.
 */
export function redactCommand(wire: string): string {
  if (/^(?:user)?auth\b/i.test(wire)) return 'auth [redacted]';
  return maskNumbers(wire.replace(/\n+$/, ''));
}
