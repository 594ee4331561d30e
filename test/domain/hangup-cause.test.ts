import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  causeFromJobResult,
  classifyHangup,
  HANGUP_CAUSE_CODES,
  HANGUP_CAUSES,
  sipCodeToCause,
  USAGE_ERROR_CAUSE,
} from '../../src/domain/hangup-cause.js';
import { isOutcome } from '../../src/domain/outcome.js';

const unanswered = (cause: string, extra: { sipCode?: number; channelCreated?: boolean } = {}) =>
  classifyHangup({
    cause,
    answered: false,
    channelCreated: extra.channelCreated ?? true,
    sipCode: extra.sipCode,
  });

describe('HANGUP_CAUSES', () => {
  it('lists every FreeSWITCH 1.10 cause once, with its number', () => {
    expect(HANGUP_CAUSES).toHaveLength(82);
    expect(new Set(HANGUP_CAUSES).size).toBe(HANGUP_CAUSES.length);
    expect(HANGUP_CAUSE_CODES.USER_BUSY).toBe(17);
    expect(HANGUP_CAUSE_CODES.NORMAL_TEMPORARY_FAILURE).toBe(41);
    expect(HANGUP_CAUSE_CODES.RECOVERY_ON_TIMER_EXPIRE).toBe(102);
    expect(HANGUP_CAUSE_CODES.ORIGINATOR_CANCEL).toBe(487);
    expect(HANGUP_CAUSE_CODES.INVALID_GATEWAY).toBe(808);
    expect(HANGUP_CAUSE_CODES.REJECT_ALL).toBe(825);
  });
});

describe('classifyHangup — every cause', () => {
  for (const cause of HANGUP_CAUSES) {
    it(`${cause} maps to one outcome; answered wins; not_dialed only before a channel exists`, () => {
      const created = unanswered(cause);
      expect(isOutcome(created.outcome)).toBe(true);
      expect(created.outcome).not.toBe('answered');
      expect(created.outcome).not.toBe('not_dialed');
      expect(classifyHangup({ cause, answered: true, channelCreated: true })).toEqual({
        outcome: 'answered',
        mayHaveReachedCallee: true,
      });
      const notCreated = unanswered(cause, { channelCreated: false });
      if (notCreated.outcome === 'not_dialed') expect(notCreated.mayHaveReachedCallee).toBe(false);
    });
  }

  it.each([
    ['USER_BUSY', 'busy', true],
    ['NO_ANSWER', 'no_answer', true],
    ['NO_USER_RESPONSE', 'no_answer', true],
    ['RECOVERY_ON_TIMER_EXPIRE', 'no_answer', true],
    ['UNALLOCATED_NUMBER', 'invalid_number', false],
    ['INVALID_NUMBER_FORMAT', 'invalid_number', false],
    ['CALL_REJECTED', 'rejected', true],
    ['NORMAL_TEMPORARY_FAILURE', 'network_failure', false],
    ['ORIGINATOR_CANCEL', 'cancelled', true],
    ['SYSTEM_SHUTDOWN', 'cancelled', true],
    ['NO_SUCH_CAUSE_IN_FREESWITCH', 'unknown', true],
  ] as const)('%s after CHANNEL_CREATE -> %s', (cause, outcome, mayHaveReachedCallee) => {
    expect(unanswered(cause)).toEqual({ outcome, mayHaveReachedCallee });
  });

  it.each([
    'INVALID_GATEWAY',
    'GATEWAY_DOWN',
    'CHAN_NOT_IMPLEMENTED',
    'DESTINATION_OUT_OF_ORDER',
    'SYSTEM_SHUTDOWN',
    'INVALID_PROFILE',
    USAGE_ERROR_CAUSE,
  ])('%s without CHANNEL_CREATE is not_dialed', (cause) => {
    expect(unanswered(cause, { channelCreated: false })).toEqual({
      outcome: 'not_dialed',
      mayHaveReachedCallee: false,
    });
  });

  it('a callee cause without CHANNEL_CREATE is still a callee outcome (the event may have been filtered)', () => {
    expect(unanswered('USER_BUSY', { channelCreated: false }).outcome).toBe('busy');
    expect(unanswered('NO_ANSWER', { channelCreated: false }).outcome).toBe('no_answer');
  });

  it('never says not_dialed once a channel was created (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom(...HANGUP_CAUSES, USAGE_ERROR_CAUSE, 'usage_error', 'toString', '__proto__'),
          fc.string(),
        ),
        fc.option(fc.integer({ min: 100, max: 699 }), { nil: undefined }),
        (cause, sipCode) => {
          const verdict = classifyHangup({ cause, sipCode, answered: false, channelCreated: true });
          expect(verdict.outcome).not.toBe('not_dialed');
          expect(isOutcome(verdict.outcome)).toBe(true);
        },
      ),
    );
  });
});

describe('SIP codes', () => {
  it.each([
    [404, 'UNALLOCATED_NUMBER', 'invalid_number', false],
    [486, 'USER_BUSY', 'busy', true],
    [600, 'USER_BUSY', 'busy', true],
    [480, 'NO_USER_RESPONSE', 'no_answer', true],
    [408, 'RECOVERY_ON_TIMER_EXPIRE', 'no_answer', true],
    [603, 'CALL_REJECTED', 'rejected', true],
    [503, 'NORMAL_TEMPORARY_FAILURE', 'network_failure', false],
    [502, 'NETWORK_OUT_OF_ORDER', 'network_failure', false],
    [484, 'INVALID_NUMBER_FORMAT', 'invalid_number', false],
    [604, 'NO_ROUTE_DESTINATION', 'invalid_number', false],
    [487, 'ORIGINATOR_CANCEL', 'cancelled', true],
    [488, 'INCOMPATIBLE_DESTINATION', 'network_failure', false],
  ] as const)('%i -> %s -> %s', (code, cause, outcome, mayHaveReachedCallee) => {
    expect(sipCodeToCause(code)).toBe(cause);
    expect(unanswered(cause, { sipCode: code })).toEqual({ outcome, mayHaveReachedCallee });
  });

  it('a generic cause is decided by the SIP code', () => {
    expect(unanswered('NORMAL_UNSPECIFIED', { sipCode: 486 }).outcome).toBe('busy');
    expect(unanswered('NORMAL_UNSPECIFIED', { sipCode: 599 }).outcome).toBe('network_failure');
    expect(unanswered('NORMAL_UNSPECIFIED', { sipCode: 499 }).outcome).toBe('rejected');
    expect(unanswered('NORMAL_UNSPECIFIED').outcome).toBe('unknown');
  });

  it('403 from the carrier is a network failure, not the callee rejecting', () => {
    expect(unanswered('CALL_REJECTED', { sipCode: 403 })).toEqual({
      outcome: 'network_failure',
      mayHaveReachedCallee: false,
    });
  });

  it('unknown codes map to NORMAL_UNSPECIFIED', () => {
    expect(sipCodeToCause(499)).toBe('NORMAL_UNSPECIFIED');
  });
});

describe('causeFromJobResult', () => {
  it.each([
    ['-ERR USER_BUSY\n', 'USER_BUSY'],
    ['-ERR UNALLOCATED_NUMBER\n', 'UNALLOCATED_NUMBER'],
    ['-ERR INVALID_GATEWAY\n', 'INVALID_GATEWAY'],
    ['+OK 8e44b583-1ce7-4f0a-90bb-ac1946747451\n', undefined],
    ['-USAGE: <call url> <exten>|&<application_name>(<app_args>)\n', USAGE_ERROR_CAUSE],
    ['-ERR something odd happened\n', 'NORMAL_UNSPECIFIED'],
  ])('%j -> %s', (body, cause) => {
    expect(causeFromJobResult(body)).toBe(cause);
  });
});
