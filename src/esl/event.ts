/**
 * A decoded FreeSWITCH event, whatever its wire format (plain, json, xml), plus typed readers for the
 * events Switchboard acts on. Header names are exactly as FreeSWITCH sends them (checked against the
 * recordings in ../shared/fixtures/freeswitch-esl/). When a header repeats (CHANNEL_HANGUP_COMPLETE
 * carries Hangup-Cause twice) the first value wins, as with switch_event_get_header.
 */

export interface EslEvent {
  /** Event-Name, e.g. CHANNEL_ANSWER; for CUSTOM events see `subclass`. */
  readonly name: string;
  /** Event-Subclass of CUSTOM events, e.g. `sofia::gateway_delete`. */
  readonly subclass: string | undefined;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string | undefined;
  header(name: string): string | undefined;
  /** Channel variable: header `variable_<name>`. */
  variable(name: string): string | undefined;
  readonly uniqueId: string | undefined;
  readonly jobUuid: string | undefined;
}

class DecodedEvent implements EslEvent {
  readonly name: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string | undefined;

  constructor(headers: ReadonlyMap<string, string>, body: string | undefined) {
    this.headers = headers;
    this.body = body;
    this.name = headers.get('Event-Name') ?? '';
  }

  get subclass(): string | undefined {
    return this.headers.get('Event-Subclass');
  }
  get uniqueId(): string | undefined {
    return this.headers.get('Unique-ID');
  }
  get jobUuid(): string | undefined {
    return this.headers.get('Job-UUID');
  }
  header(name: string): string | undefined {
    return this.headers.get(name);
  }
  variable(name: string): string | undefined {
    return this.headers.get(`variable_${name}`);
  }
}

export function createEvent(headers: ReadonlyMap<string, string>, body: string | undefined): EslEvent {
  return new DecodedEvent(headers, body);
}

// ---- typed readers ------------------------------------------------------------------------------

export type ChannelEventName =
  | 'CHANNEL_CREATE'
  | 'CHANNEL_PROGRESS'
  | 'CHANNEL_PROGRESS_MEDIA'
  | 'CHANNEL_ANSWER'
  | 'CHANNEL_HANGUP'
  | 'CHANNEL_HANGUP_COMPLETE';

export interface ChannelFacts {
  readonly name: ChannelEventName;
  readonly uniqueId: string;
  readonly channelName: string | undefined;
  readonly callDirection: string | undefined;
  /** Answer-State: ringing, early, answered, hangup. */
  readonly answerState: string | undefined;
  readonly channelState: string | undefined;
}

const CHANNEL_EVENTS: ReadonlySet<string> = new Set<ChannelEventName>([
  'CHANNEL_CREATE',
  'CHANNEL_PROGRESS',
  'CHANNEL_PROGRESS_MEDIA',
  'CHANNEL_ANSWER',
  'CHANNEL_HANGUP',
  'CHANNEL_HANGUP_COMPLETE',
]);

export function isChannelEvent(event: EslEvent): event is EslEvent & { name: ChannelEventName } {
  return CHANNEL_EVENTS.has(event.name);
}

/** Facts common to the channel lifecycle events, or undefined for other events / no Unique-ID. */
export function channelFacts(event: EslEvent): ChannelFacts | undefined {
  if (!isChannelEvent(event) || event.uniqueId === undefined) return undefined;
  return {
    name: event.name,
    uniqueId: event.uniqueId,
    channelName: event.header('Channel-Name'),
    callDirection: event.header('Call-Direction'),
    answerState: event.header('Answer-State'),
    channelState: event.header('Channel-State'),
  };
}

export interface HangupFactsFromEvent {
  readonly uniqueId: string;
  /** Hangup-Cause, e.g. USER_BUSY. */
  readonly cause: string;
  /** Final SIP status when the channel was SIP: variable_sip_term_status or proto_specific "sip:486". */
  readonly sipCode: number | undefined;
  /** The channel was answered at some point (answer time or answer epoch non-zero). */
  readonly answered: boolean;
  /** Q.850 number FreeSWITCH reported (variable_hangup_cause_q850), when present. */
  readonly q850: number | undefined;
}

/** Reads CHANNEL_HANGUP / CHANNEL_HANGUP_COMPLETE; undefined for other events. */
export function hangupFacts(event: EslEvent): HangupFactsFromEvent | undefined {
  if (event.name !== 'CHANNEL_HANGUP' && event.name !== 'CHANNEL_HANGUP_COMPLETE') return undefined;
  const uniqueId = event.uniqueId;
  const cause = event.header('Hangup-Cause') ?? event.variable('hangup_cause');
  if (uniqueId === undefined || cause === undefined) return undefined;
  return {
    uniqueId,
    cause,
    sipCode: sipCodeOf(event),
    answered:
      isNonZero(event.header('Caller-Channel-Answered-Time')) || isNonZero(event.variable('answer_epoch')),
    q850: toInteger(event.variable('hangup_cause_q850')),
  };
}

function sipCodeOf(event: EslEvent): number | undefined {
  const term = toInteger(event.variable('sip_term_status'));
  if (term !== undefined) return term;
  const proto = event.variable('proto_specific_hangup_cause');
  const match = proto === undefined ? null : /^sip:(\d{3})$/.exec(proto);
  return match ? Number(match[1]) : undefined;
}

export interface BackgroundJobFacts {
  readonly jobUuid: string;
  readonly command: string | undefined;
  readonly commandArg: string | undefined;
  /** The body starts with "+OK". */
  readonly ok: boolean;
  /** The body without its trailing newline, e.g. "+OK 8e44…" or "-ERR USER_BUSY". */
  readonly text: string;
  /** The body exactly as sent. */
  readonly body: string;
}

export function backgroundJobFacts(event: EslEvent): BackgroundJobFacts | undefined {
  if (event.name !== 'BACKGROUND_JOB' || event.jobUuid === undefined) return undefined;
  const body = event.body ?? '';
  return {
    jobUuid: event.jobUuid,
    command: event.header('Job-Command'),
    commandArg: event.header('Job-Command-Arg'),
    ok: body.startsWith('+OK'),
    text: body.replace(/\n$/, ''),
    body,
  };
}

export interface HeartbeatFacts {
  readonly sessionCount: number | undefined;
  readonly maxSessions: number | undefined;
  readonly sessionsPerSecond: number | undefined;
  readonly sessionsPerSecondLast: number | undefined;
  readonly sessionsPerSecondMax: number | undefined;
  readonly sessionsPerSecondFiveMin: number | undefined;
  readonly sessionsSinceStartup: number | undefined;
  readonly sessionPeakMax: number | undefined;
  readonly sessionPeakFiveMin: number | undefined;
  /** Idle-CPU in percent, e.g. 98. */
  readonly idleCpuPercent: number | undefined;
  readonly uptimeMs: number | undefined;
  readonly eventInfo: string | undefined;
}

export function heartbeatFacts(event: EslEvent): HeartbeatFacts | undefined {
  if (event.name !== 'HEARTBEAT') return undefined;
  const number = (name: string): number | undefined => toNumber(event.header(name));
  return {
    sessionCount: number('Session-Count'),
    maxSessions: number('Max-Sessions'),
    sessionsPerSecond: number('Session-Per-Sec'),
    sessionsPerSecondLast: number('Session-Per-Sec-Last'),
    sessionsPerSecondMax: number('Session-Per-Sec-Max'),
    sessionsPerSecondFiveMin: number('Session-Per-Sec-FiveMin'),
    sessionsSinceStartup: number('Session-Since-Startup'),
    sessionPeakMax: number('Session-Peak-Max'),
    sessionPeakFiveMin: number('Session-Peak-FiveMin'),
    idleCpuPercent: number('Idle-CPU'),
    uptimeMs: number('Uptime-msec'),
    eventInfo: event.header('Event-Info'),
  };
}

export interface DtmfFacts {
  readonly uniqueId: string | undefined;
  readonly digit: string;
  readonly durationSamples: number | undefined;
}

/** DTMF carries DTMF-Digit and DTMF-Duration (switch_channel.c switch_channel_dequeue_dtmf). */
export function dtmfFacts(event: EslEvent): DtmfFacts | undefined {
  const digit = event.header('DTMF-Digit');
  if (event.name !== 'DTMF' || digit === undefined) return undefined;
  return { uniqueId: event.uniqueId, digit, durationSamples: toInteger(event.header('DTMF-Duration')) };
}

export interface PlaybackFacts {
  readonly kind: 'start' | 'stop';
  readonly uniqueId: string | undefined;
  readonly filePath: string | undefined;
  /** PLAYBACK_STOP only: Playback-Status, e.g. "done" or "break". */
  readonly status: string | undefined;
}

export function playbackFacts(event: EslEvent): PlaybackFacts | undefined {
  if (event.name !== 'PLAYBACK_START' && event.name !== 'PLAYBACK_STOP') return undefined;
  return {
    kind: event.name === 'PLAYBACK_START' ? 'start' : 'stop',
    uniqueId: event.uniqueId,
    filePath: event.header('Playback-File-Path'),
    status: event.header('Playback-Status'),
  };
}

/** The subclass of a CUSTOM event (e.g. `sofia::gateway_delete`), undefined for other events. */
export function customSubclass(event: EslEvent): string | undefined {
  return event.name === 'CUSTOM' ? event.subclass : undefined;
}

function isNonZero(value: string | undefined): boolean {
  return value !== undefined && value !== '' && /^[0-9]+$/.test(value) && /[1-9]/.test(value);
}

function toInteger(value: string | undefined): number | undefined {
  return value !== undefined && /^-?[0-9]{1,15}$/.test(value) ? Number(value) : undefined;
}

function toNumber(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}
