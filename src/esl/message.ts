/**
 * Layer 2: a frame becomes a typed message according to its Content-Type. An unknown Content-Type, a
 * plain event that is not a header block, a JSON event that is not an object of strings, or an inner
 * Content-Length that disagrees with the bytes is a protocol error: we fail closed rather than guess.
 */
import { isAscii } from 'node:buffer';
import { EslProtocolError } from './errors.js';
import { createEvent, type EslEvent } from './event.js';
import type { Frame } from './frame-parser.js';
import { PlainHeaders } from './plain-headers.js';
import { decodeXmlEvent } from './xml-event.js';

export { decodeXmlEvent };

export interface CommandReply {
  /** Reply-Text, e.g. "+OK accepted", "-ERR invalid", "+OK Job-UUID: …". */
  readonly replyText: string;
  /** Reply-Text starts with "+OK". */
  readonly ok: boolean;
  /** All envelope headers (bgapi replies add Job-UUID). */
  readonly headers: ReadonlyMap<string, string>;
}

export type EslMessage =
  | { readonly type: 'auth/request' }
  | { readonly type: 'command/reply'; readonly reply: CommandReply }
  | { readonly type: 'api/response'; readonly body: string }
  | { readonly type: 'event'; readonly format: 'plain' | 'json' | 'xml'; readonly event: EslEvent }
  | {
      readonly type: 'disconnect-notice';
      readonly headers: ReadonlyMap<string, string>;
      readonly body: string;
    }
  | { readonly type: 'log/data'; readonly headers: ReadonlyMap<string, string>; readonly body: string }
  /** mod_event_socket's answer to a peer outside its ACL, just before it closes the socket. */
  | { readonly type: 'rude-rejection'; readonly body: string };

export function decodeMessage(frame: Frame): EslMessage {
  switch (frame.contentType) {
    case 'auth/request':
      return { type: 'auth/request' };
    case 'command/reply': {
      const replyText = frame.headers.get('Reply-Text') ?? '';
      return {
        type: 'command/reply',
        reply: { replyText, ok: replyText.startsWith('+OK'), headers: frame.headers },
      };
    }
    case 'api/response':
      return { type: 'api/response', body: bodyText(frame) };
    case 'text/event-plain':
      return { type: 'event', format: 'plain', event: decodePlainEvent(frame.body) };
    case 'text/event-json':
      return { type: 'event', format: 'json', event: decodeJsonEvent(bodyText(frame)) };
    case 'text/event-xml':
      return { type: 'event', format: 'xml', event: decodeXmlEvent(bodyText(frame)) };
    case 'text/disconnect-notice':
      return { type: 'disconnect-notice', headers: frame.headers, body: bodyText(frame) };
    case 'log/data':
      return { type: 'log/data', headers: frame.headers, body: bodyText(frame) };
    case 'text/rude-rejection':
      return { type: 'rude-rejection', body: bodyText(frame) };
    default:
      throw new EslProtocolError(`unknown Content-Type ${JSON.stringify(frame.contentType.slice(0, 64))}`);
  }
}

function bodyText(frame: Frame): string {
  return frame.body === undefined ? '' : frame.body.toString('utf8');
}

const LF = 0x0a;

/**
 * A plain event body is a header block with URL-encoded values (names are not encoded), ended by a
 * blank line; events such as BACKGROUND_JOB then carry an inner Content-Length and that many bytes.
 */
export function decodePlainEvent(body: Buffer | undefined): EslEvent {
  if (body === undefined || body.length === 0) throw new EslProtocolError('text/event-plain without a body');
  let blockEnd = body.indexOf('\n\n');
  if (blockEnd === -1) blockEnd = body[body.length - 1] === LF ? body.length - 1 : body.length;
  // Values are URL-encoded, so the block is ASCII; latin1 decoding is then exact and ~2x faster.
  const text = isAscii(body.subarray(0, blockEnd))
    ? body.toString('latin1', 0, blockEnd)
    : body.toString('utf8', 0, blockEnd);
  const headers = PlainHeaders.parse(text);
  const innerLengthText = headers.get('Content-Length');
  let innerBody: string | undefined;
  if (innerLengthText !== undefined) {
    if (!/^[0-9]{1,10}$/.test(innerLengthText)) throw new EslProtocolError('invalid inner Content-Length');
    const innerLength = Number(innerLengthText);
    const innerStart = blockEnd + 2;
    if (innerStart + innerLength > body.length) {
      throw new EslProtocolError('inner Content-Length exceeds the event body');
    }
    innerBody = body.toString('utf8', innerStart, innerStart + innerLength);
  }
  return requireName(createEvent(headers, innerBody));
}

/** JSON events: an object whose values are strings (arrays for multi-value headers); `_body` is the body. */
export function decodeJsonEvent(text: string): EslEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new EslProtocolError('text/event-json body is not JSON', { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new EslProtocolError('text/event-json body is not an object');
  }
  const headers = new Map<string, string>();
  let body: string | undefined;
  for (const [name, value] of Object.entries(parsed)) {
    const text = jsonHeaderValue(value);
    if (text === undefined) throw new EslProtocolError(`text/event-json header ${name} is not a string`);
    if (name === '_body') body = text;
    else headers.set(name, text);
  }
  return requireName(createEvent(headers, body));
}

/** FreeSWITCH serialises multi-value headers as JSON arrays; we keep its plain-text form ARRAY::a|:b. */
function jsonHeaderValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item): item is string => typeof item === 'string')) {
    return `ARRAY::${value.join('|:')}`;
  }
  return undefined;
}

function requireName(event: EslEvent): EslEvent {
  if (event.name === '') throw new EslProtocolError('event without Event-Name');
  return event;
}
