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

/** The text to log for an outgoing command: the password of `auth` never reaches a log line. */
export function redactCommand(wire: string): string {
  return /^auth\b/i.test(wire) ? 'auth [redacted]' : wire.replace(/\n+$/, '');
}
