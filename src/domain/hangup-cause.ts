/**
 * How a FreeSWITCH hang-up cause becomes one of our outcomes (ARCHITECTURE.md decision 3).
 *
 * Sources (FreeSWITCH 1.10): cause names and Q.850 numbers from switch_types.h / switch_channel.c
 * CAUSE_CHART; SIP status → cause from mod_sofia sofia_glue_sip_cause_to_freeswitch (404 →
 * UNALLOCATED_NUMBER as recorded in fixture 25); the pre-signalling causes from mod_sofia
 * sofia_outgoing_channel and switch_core_session.c (see NOT_DIALED_CAUSES).
 *
 * `mayHaveReachedCallee` is false only when the cause itself says the callee's phone did not ring
 * (the number does not exist, the network or carrier refused, the switch never sent anything).
 * When in doubt it is true: a false "not reached" could ring a phone twice.
 */
import type { Outcome, OutcomeVerdict } from './outcome.js';

export interface HangupFacts {
  cause: string;
  sipCode?: number;
  /** The channel was answered at some point. */
  answered: boolean;
  /** A CHANNEL_CREATE was seen for the call (the switch built the outgoing channel). */
  channelCreated: boolean;
}

/** Every cause FreeSWITCH 1.10 defines, with its number (Q.850 where < 128, FreeSWITCH's own above). */
export const HANGUP_CAUSE_CODES: Readonly<Record<string, number>> = {
  NONE: 0,
  UNALLOCATED_NUMBER: 1,
  NO_ROUTE_TRANSIT_NET: 2,
  NO_ROUTE_DESTINATION: 3,
  CHANNEL_UNACCEPTABLE: 6,
  CALL_AWARDED_DELIVERED: 7,
  NORMAL_CLEARING: 16,
  USER_BUSY: 17,
  NO_USER_RESPONSE: 18,
  NO_ANSWER: 19,
  SUBSCRIBER_ABSENT: 20,
  CALL_REJECTED: 21,
  NUMBER_CHANGED: 22,
  REDIRECTION_TO_NEW_DESTINATION: 23,
  EXCHANGE_ROUTING_ERROR: 25,
  DESTINATION_OUT_OF_ORDER: 27,
  INVALID_NUMBER_FORMAT: 28,
  FACILITY_REJECTED: 29,
  RESPONSE_TO_STATUS_ENQUIRY: 30,
  NORMAL_UNSPECIFIED: 31,
  NORMAL_CIRCUIT_CONGESTION: 34,
  NETWORK_OUT_OF_ORDER: 38,
  NORMAL_TEMPORARY_FAILURE: 41,
  SWITCH_CONGESTION: 42,
  ACCESS_INFO_DISCARDED: 43,
  REQUESTED_CHAN_UNAVAIL: 44,
  PRE_EMPTED: 45,
  FACILITY_NOT_SUBSCRIBED: 50,
  OUTGOING_CALL_BARRED: 52,
  INCOMING_CALL_BARRED: 54,
  BEARERCAPABILITY_NOTAUTH: 57,
  BEARERCAPABILITY_NOTAVAIL: 58,
  SERVICE_UNAVAILABLE: 63,
  BEARERCAPABILITY_NOTIMPL: 65,
  CHAN_NOT_IMPLEMENTED: 66,
  FACILITY_NOT_IMPLEMENTED: 69,
  SERVICE_NOT_IMPLEMENTED: 79,
  INVALID_CALL_REFERENCE: 81,
  INCOMPATIBLE_DESTINATION: 88,
  INVALID_MSG_UNSPECIFIED: 95,
  MANDATORY_IE_MISSING: 96,
  MESSAGE_TYPE_NONEXIST: 97,
  WRONG_MESSAGE: 98,
  IE_NONEXIST: 99,
  INVALID_IE_CONTENTS: 100,
  WRONG_CALL_STATE: 101,
  RECOVERY_ON_TIMER_EXPIRE: 102,
  MANDATORY_IE_LENGTH_ERROR: 103,
  PROTOCOL_ERROR: 111,
  INTERWORKING: 127,
  SUCCESS: 142,
  ORIGINATOR_CANCEL: 487,
  CRASH: 700,
  SYSTEM_SHUTDOWN: 701,
  LOSE_RACE: 702,
  MANAGER_REQUEST: 703,
  BLIND_TRANSFER: 800,
  ATTENDED_TRANSFER: 801,
  ALLOTTED_TIMEOUT: 802,
  USER_CHALLENGE: 803,
  MEDIA_TIMEOUT: 804,
  PICKED_OFF: 805,
  USER_NOT_REGISTERED: 806,
  PROGRESS_TIMEOUT: 807,
  INVALID_GATEWAY: 808,
  GATEWAY_DOWN: 809,
  INVALID_URL: 810,
  INVALID_PROFILE: 811,
  NO_PICKUP: 812,
  SRTP_READ_ERROR: 813,
  BOWOUT: 814,
  BUSY_EVERYWHERE: 815,
  DECLINE: 816,
  DOES_NOT_EXIST_ANYWHERE: 817,
  NOT_ACCEPTABLE: 818,
  UNWANTED: 819,
  NO_IDENTITY: 820,
  BAD_IDENTITY_INFO: 821,
  UNSUPPORTED_CERTIFICATE: 822,
  INVALID_IDENTITY: 823,
  STALE_DATE: 824,
  REJECT_ALL: 825,
};

export const HANGUP_CAUSES: readonly string[] = Object.keys(HANGUP_CAUSE_CODES);

/**
 * Not a FreeSWITCH cause: what causeFromJobResult returns for a `-USAGE: …` job result (the
 * originate arguments were unusable, fixture 60/70), so that classifyHangup can call it not_dialed.
 */
export const USAGE_ERROR_CAUSE = 'USAGE_ERROR';

/**
 * Causes FreeSWITCH gives before any signalling left the switch. Only with channelCreated false do
 * they prove the call was not dialed (the same names can also arrive from the network later).
 * - INVALID_GATEWAY, GATEWAY_DOWN, INVALID_PROFILE, INVALID_URL, USER_NOT_REGISTERED: mod_sofia
 *   refuses the dial string (fixture 60: INVALID_GATEWAY and a CHANNEL_DESTROY without CHANNEL_CREATE).
 * - CHAN_NOT_IMPLEMENTED: unknown endpoint type (switch_core_session_outgoing_channel, fixture 60).
 * - DESTINATION_OUT_OF_ORDER: sofia_outgoing_channel's default cause, returned when
 *   switch_core_session_request refuses a session: over max-sessions, over sessions-per-second
 *   ("Throttle Error"), or below min-idle-cpu.
 * - SYSTEM_SHUTDOWN: the core is not accepting outbound calls.
 * - USAGE_ERROR: `-USAGE: …`, the command was not understood.
 */
const NOT_DIALED_CAUSES: ReadonlySet<string> = new Set([
  'INVALID_GATEWAY',
  'GATEWAY_DOWN',
  'INVALID_PROFILE',
  'INVALID_URL',
  'USER_NOT_REGISTERED',
  'CHAN_NOT_IMPLEMENTED',
  'DESTINATION_OUT_OF_ORDER',
  'SYSTEM_SHUTDOWN',
  USAGE_ERROR_CAUSE,
]);

type Verdict = readonly [Outcome, boolean];
const NETWORK: Verdict = ['network_failure', false];
const INVALID: Verdict = ['invalid_number', false];
const NO_ANSWER: Verdict = ['no_answer', true];
const REJECTED: Verdict = ['rejected', true];
const CANCELLED: Verdict = ['cancelled', true];
const UNKNOWN: Verdict = ['unknown', true];

/** Verdict for an unanswered call, by cause. Causes absent here are classified as unknown. */
const UNANSWERED: Readonly<Record<string, Verdict>> = {
  NONE: UNKNOWN,
  UNALLOCATED_NUMBER: INVALID,
  NO_ROUTE_TRANSIT_NET: NETWORK,
  NO_ROUTE_DESTINATION: INVALID,
  CHANNEL_UNACCEPTABLE: NETWORK,
  CALL_AWARDED_DELIVERED: UNKNOWN,
  // Unanswered but "normal": the far end ended the attempt after it may have rung.
  NORMAL_CLEARING: NO_ANSWER,
  USER_BUSY: ['busy', true],
  NO_USER_RESPONSE: NO_ANSWER,
  NO_ANSWER: NO_ANSWER,
  SUBSCRIBER_ABSENT: ['no_answer', false],
  CALL_REJECTED: REJECTED,
  NUMBER_CHANGED: INVALID,
  REDIRECTION_TO_NEW_DESTINATION: NETWORK,
  EXCHANGE_ROUTING_ERROR: NETWORK,
  DESTINATION_OUT_OF_ORDER: NETWORK,
  INVALID_NUMBER_FORMAT: INVALID,
  FACILITY_REJECTED: NETWORK,
  RESPONSE_TO_STATUS_ENQUIRY: UNKNOWN,
  NORMAL_UNSPECIFIED: UNKNOWN,
  NORMAL_CIRCUIT_CONGESTION: NETWORK,
  NETWORK_OUT_OF_ORDER: NETWORK,
  NORMAL_TEMPORARY_FAILURE: NETWORK,
  SWITCH_CONGESTION: NETWORK,
  ACCESS_INFO_DISCARDED: NETWORK,
  REQUESTED_CHAN_UNAVAIL: NETWORK,
  PRE_EMPTED: NETWORK,
  FACILITY_NOT_SUBSCRIBED: NETWORK,
  OUTGOING_CALL_BARRED: NETWORK,
  INCOMING_CALL_BARRED: ['rejected', false],
  BEARERCAPABILITY_NOTAUTH: NETWORK,
  BEARERCAPABILITY_NOTAVAIL: NETWORK,
  SERVICE_UNAVAILABLE: NETWORK,
  BEARERCAPABILITY_NOTIMPL: NETWORK,
  CHAN_NOT_IMPLEMENTED: NETWORK,
  FACILITY_NOT_IMPLEMENTED: NETWORK,
  SERVICE_NOT_IMPLEMENTED: NETWORK,
  INVALID_CALL_REFERENCE: NETWORK,
  INCOMPATIBLE_DESTINATION: NETWORK,
  INVALID_MSG_UNSPECIFIED: NETWORK,
  MANDATORY_IE_MISSING: NETWORK,
  MESSAGE_TYPE_NONEXIST: NETWORK,
  WRONG_MESSAGE: NETWORK,
  IE_NONEXIST: NETWORK,
  INVALID_IE_CONTENTS: NETWORK,
  WRONG_CALL_STATE: NETWORK,
  // 408 and other timer expiries: the INVITE was out, the phone may have been ringing.
  RECOVERY_ON_TIMER_EXPIRE: NO_ANSWER,
  MANDATORY_IE_LENGTH_ERROR: NETWORK,
  PROTOCOL_ERROR: NETWORK,
  INTERWORKING: NETWORK,
  SUCCESS: UNKNOWN,
  ORIGINATOR_CANCEL: CANCELLED,
  CRASH: UNKNOWN,
  SYSTEM_SHUTDOWN: CANCELLED,
  LOSE_RACE: CANCELLED,
  MANAGER_REQUEST: CANCELLED,
  BLIND_TRANSFER: UNKNOWN,
  ATTENDED_TRANSFER: UNKNOWN,
  ALLOTTED_TIMEOUT: CANCELLED,
  USER_CHALLENGE: NETWORK,
  MEDIA_TIMEOUT: ['network_failure', true],
  PICKED_OFF: CANCELLED,
  USER_NOT_REGISTERED: NETWORK,
  PROGRESS_TIMEOUT: NO_ANSWER,
  INVALID_GATEWAY: NETWORK,
  GATEWAY_DOWN: NETWORK,
  INVALID_URL: NETWORK,
  INVALID_PROFILE: NETWORK,
  NO_PICKUP: NO_ANSWER,
  SRTP_READ_ERROR: ['network_failure', true],
  BOWOUT: UNKNOWN,
  BUSY_EVERYWHERE: ['busy', true],
  DECLINE: REJECTED,
  DOES_NOT_EXIST_ANYWHERE: INVALID,
  NOT_ACCEPTABLE: NETWORK,
  UNWANTED: REJECTED,
  NO_IDENTITY: NETWORK,
  BAD_IDENTITY_INFO: NETWORK,
  UNSUPPORTED_CERTIFICATE: NETWORK,
  INVALID_IDENTITY: NETWORK,
  STALE_DATE: NETWORK,
  // 608: an intermediary (call analytics) refused before the phone rang.
  REJECT_ALL: ['rejected', false],
  // A usage error after a channel exists cannot happen; if it does, we know nothing.
  [USAGE_ERROR_CAUSE]: UNKNOWN,
};

/** Causes that say little by themselves: the SIP status, when known, decides instead. */
const GENERIC_CAUSES: ReadonlySet<string> = new Set(['NONE', 'NORMAL_UNSPECIFIED']);

export function classifyHangup(facts: HangupFacts): OutcomeVerdict {
  if (facts.answered) return { outcome: 'answered', mayHaveReachedCallee: true };
  const cause = facts.cause.trim().toUpperCase();
  if (!facts.channelCreated && NOT_DIALED_CAUSES.has(cause)) {
    return { outcome: 'not_dialed', mayHaveReachedCallee: false };
  }
  const sipCode = facts.sipCode;
  // A carrier that refuses our credentials is not the callee rejecting the call.
  if (cause === 'CALL_REJECTED' && (sipCode === 401 || sipCode === 403 || sipCode === 407)) {
    return verdict(NETWORK);
  }
  if ((GENERIC_CAUSES.has(cause) || !Object.hasOwn(UNANSWERED, cause)) && sipCode !== undefined) {
    return verdict(bySipCode(sipCode));
  }
  return verdict(lookup(cause));
}

function bySipCode(code: number): Verdict {
  const cause = sipCodeToCause(code);
  if (!GENERIC_CAUSES.has(cause)) return lookup(cause);
  if (code >= 500 && code < 600) return NETWORK;
  if (code >= 400 && code < 700) return REJECTED;
  return UNKNOWN;
}

function lookup(cause: string): Verdict {
  return Object.hasOwn(UNANSWERED, cause) ? UNANSWERED[cause]! : UNKNOWN;
}

function verdict([outcome, mayHaveReachedCallee]: Verdict): OutcomeVerdict {
  return { outcome, mayHaveReachedCallee };
}

/** "-ERR USER_BUSY\n" → "USER_BUSY"; "-USAGE: …" → USAGE_ERROR; "+OK …" → undefined. */
export function causeFromJobResult(body: string): string | undefined {
  const text = body.trim();
  if (text.startsWith('+OK')) return undefined;
  if (text.startsWith('-USAGE')) return USAGE_ERROR_CAUSE;
  const match = /^-ERR\s+([A-Z_]+)\s*$/.exec(text);
  if (match) return match[1];
  // Any other failure text is not a cause we can reason about.
  return text.startsWith('-ERR') ? 'NORMAL_UNSPECIFIED' : 'NONE';
}

/** SIP final status → FreeSWITCH cause, as mod_sofia's sofia_glue_sip_cause_to_freeswitch (1.10). */
export function sipCodeToCause(code: number): string {
  switch (code) {
    case 200:
      return 'NORMAL_CLEARING';
    case 401:
    case 402:
    case 403:
    case 407:
    case 603:
      return 'CALL_REJECTED';
    case 404:
      return 'UNALLOCATED_NUMBER';
    case 485:
    case 604:
      return 'NO_ROUTE_DESTINATION';
    case 408:
    case 504:
      return 'RECOVERY_ON_TIMER_EXPIRE';
    case 410:
      return 'NUMBER_CHANGED';
    case 413:
    case 414:
    case 416:
    case 420:
    case 421:
    case 423:
    case 505:
    case 513:
      return 'INTERWORKING';
    case 480:
      return 'NO_USER_RESPONSE';
    case 400:
    case 481:
    case 500:
    case 503:
      return 'NORMAL_TEMPORARY_FAILURE';
    case 486:
    case 600:
      return 'USER_BUSY';
    case 484:
      return 'INVALID_NUMBER_FORMAT';
    case 488:
    case 606:
      return 'INCOMPATIBLE_DESTINATION';
    case 502:
      return 'NETWORK_OUT_OF_ORDER';
    case 405:
      return 'SERVICE_UNAVAILABLE';
    case 406:
    case 415:
    case 501:
      return 'SERVICE_NOT_IMPLEMENTED';
    case 482:
    case 483:
      return 'EXCHANGE_ROUTING_ERROR';
    case 487:
      return 'ORIGINATOR_CANCEL';
    default:
      return 'NORMAL_UNSPECIFIED';
  }
}
