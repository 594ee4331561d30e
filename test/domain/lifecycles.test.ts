import { describe, expect, it } from 'vitest';
import { ATTEMPT_STATUSES, ATTEMPT_TRANSITIONS, assertAttemptTransition } from '../../src/domain/attempt.js';
import { IllegalTransitionError } from '../../src/domain/state-machine.js';
import {
  assertTaskTransition,
  isTerminalTaskStatus,
  TASK_STATUSES,
  TASK_TRANSITIONS,
} from '../../src/domain/task.js';

describe('task lifecycle', () => {
  const allowed = new Set([
    'queued→dialing',
    'queued→expired',
    'queued→cancelled',
    'dialing→queued',
    'dialing→completed',
    'dialing→expired',
  ]);
  for (const from of TASK_STATUSES) {
    for (const to of TASK_STATUSES) {
      const key = `${from}→${to}`;
      it(`${key} is ${allowed.has(key) ? 'allowed' : 'refused'}`, () => {
        if (allowed.has(key)) expect(() => assertTaskTransition(from, to)).not.toThrow();
        else expect(() => assertTaskTransition(from, to)).toThrow(IllegalTransitionError);
      });
    }
  }

  it('terminal statuses have no way out', () => {
    for (const status of TASK_STATUSES) {
      expect(isTerminalTaskStatus(status)).toBe(TASK_TRANSITIONS[status].length === 0);
    }
  });
});

describe('attempt lifecycle', () => {
  it('only moves forward, may skip stages, and ends once', () => {
    for (const [i, from] of ATTEMPT_STATUSES.entries()) {
      for (const [j, to] of ATTEMPT_STATUSES.entries()) {
        if (j > i) expect(() => assertAttemptTransition(from, to)).not.toThrow();
        else expect(() => assertAttemptTransition(from, to)).toThrow(IllegalTransitionError);
      }
    }
    expect(ATTEMPT_TRANSITIONS.ended).toEqual([]);
  });
});
