/** Hang-up causes the simulator produces, with their Q.850 codes and the SIP replies behind them. */
const Q850: Record<string, number> = {
  UNALLOCATED_NUMBER: 1,
  NO_ROUTE_DESTINATION: 3,
  NORMAL_CLEARING: 16,
  USER_BUSY: 17,
  NO_USER_RESPONSE: 18,
  NO_ANSWER: 19,
  CALL_REJECTED: 21,
  DESTINATION_OUT_OF_ORDER: 27,
  INVALID_NUMBER_FORMAT: 28,
  NORMAL_UNSPECIFIED: 31,
  NETWORK_OUT_OF_ORDER: 38,
  NORMAL_TEMPORARY_FAILURE: 41,
  SWITCH_CONGESTION: 42,
  RECOVERY_ON_TIMER_EXPIRE: 102,
  ORIGINATOR_CANCEL: 487,
  LOSE_RACE: 502,
  MANAGER_REQUEST: 503,
  SYSTEM_SHUTDOWN: 503,
  ALLOTTED_TIMEOUT: 602,
};

export function isKnownCause(cause: string): boolean {
  return cause in Q850;
}

export function q850Of(cause: string): number {
  return Q850[cause] ?? 0;
}

/** A carrier's SIP final response and what mod_sofia makes of it (fixtures 22, 25, 26, 28). */
export interface SipRefusal {
  status: number;
  phrase: string;
  cause: string;
}

export const SIP_REFUSALS = {
  busy: { status: 486, phrase: 'Busy Here', cause: 'USER_BUSY' },
  notFound: { status: 404, phrase: 'Not Found', cause: 'UNALLOCATED_NUMBER' },
  unavailable: { status: 503, phrase: 'Service Unavailable', cause: 'NORMAL_TEMPORARY_FAILURE' },
  timeout: { status: 408, phrase: 'Request Timeout', cause: 'RECOVERY_ON_TIMER_EXPIRE' },
} as const satisfies Record<string, SipRefusal>;
