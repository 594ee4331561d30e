/**
 * One event as the switch fires it, renderable as text/event-plain or text/event-json. Rendering
 * is lazy and cached: an event goes to many sockets but is serialised at most once per format.
 */
import { urlEncode } from './encoder.js';
import { xmlFromPlain } from './event-xml.js';

export interface SimEvent {
  readonly name: string;
  /** Unique-ID of the channel the event is about (myevents binds on it). */
  readonly uniqueId: string | undefined;
  /** Raw (decoded) value of the first header with this name, as filters see it. */
  header(name: string): string | undefined;
  /** The event body of text/event-plain: URL-encoded header block, blank line, optional body. */
  plain(): string;
  /** The event body of text/event-json. */
  json(): string;
  /** The event body of text/event-xml. */
  xml(): string;
}

/** The 13 headers every event starts with; stamped when the event fires. */
export interface EventOrigin {
  coreUuid: string;
  hostname: string;
  ipv4: string;
  sequence: number;
  nowUs: number;
  calledFrom: readonly [string, string, string];
}

let cachedSecond = -1;
let cachedLocal = '';
let cachedGmt = '';

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `2026-11-22 15:25:12` in local time, the way FreeSWITCH writes Event-Date-Local and *_stamp. */
export function localStamp(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function dates(nowUs: number): [string, string] {
  const second = Math.floor(nowUs / 1_000_000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedLocal = localStamp(second * 1000);
    cachedGmt = new Date(second * 1000).toUTCString();
  }
  return [cachedLocal, cachedGmt];
}

export function originHeaders(name: string, origin: EventOrigin): [string, string][] {
  const [local, gmt] = dates(origin.nowUs);
  return [
    ['Event-Name', name],
    ['Core-UUID', origin.coreUuid],
    ['FreeSWITCH-Hostname', origin.hostname],
    ['FreeSWITCH-Switchname', origin.hostname],
    ['FreeSWITCH-IPv4', origin.ipv4],
    ['FreeSWITCH-IPv6', '::1'],
    ['Event-Date-Local', local],
    ['Event-Date-GMT', gmt],
    ['Event-Date-Timestamp', String(origin.nowUs)],
    ['Event-Calling-File', origin.calledFrom[0]],
    ['Event-Calling-Function', origin.calledFrom[1]],
    ['Event-Calling-Line-Number', origin.calledFrom[2]],
    ['Event-Sequence', String(origin.sequence)],
  ];
}

export function plainHeaders(headers: readonly (readonly [string, string])[]): string {
  let out = '';
  for (const [name, value] of headers) out += `${name}: ${urlEncode(value)}\n`;
  return out;
}

export function jsonHeaders(headers: readonly (readonly [string, string])[]): string {
  let out = '';
  for (const [name, value] of headers) out += `,${JSON.stringify(name)}:${JSON.stringify(value)}`;
  return out.slice(1);
}

/** Events with few headers (BACKGROUND_JOB, HEARTBEAT, RE_SCHEDULE, PLAYBACK_*): plain header lists. */
export class SimpleEvent implements SimEvent {
  private plainText: string | undefined;
  private jsonText: string | undefined;
  private xmlText: string | undefined;

  constructor(
    readonly name: string,
    private readonly headers: readonly (readonly [string, string])[],
    private readonly body?: string,
    /** Set for events about a channel, so that myevents binds them. */
    readonly uniqueId: string | undefined = undefined,
  ) {}

  header(name: string): string | undefined {
    const lower = name.toLowerCase();
    return this.headers.find(([n]) => n.toLowerCase() === lower)?.[1];
  }

  plain(): string {
    if (this.plainText === undefined) {
      const body =
        this.body === undefined ? '' : `Content-Length: ${Buffer.byteLength(this.body)}\n\n${this.body}`;
      this.plainText = `${plainHeaders(this.headers)}${this.body === undefined ? '\n' : body}`;
    }
    return this.plainText;
  }

  json(): string {
    if (this.jsonText === undefined) {
      const body =
        this.body === undefined
          ? ''
          : `,"Content-Length":"${Buffer.byteLength(this.body)}","_body":${JSON.stringify(this.body)}`;
      this.jsonText = `{${jsonHeaders(this.headers)}${body}}`;
    }
    return this.jsonText;
  }

  xml(): string {
    this.xmlText ??= xmlFromPlain(this.plain());
    return this.xmlText;
  }
}
