import { describe, expect, it } from 'vitest';
import { OUTCOMES, type Outcome } from '../../src/domain/outcome.js';
import { nextStepAfterAttempt, notDialedBackoffMs, type RetryPolicy } from '../../src/domain/retry-policy.js';

const policy: RetryPolicy = {
  maxAttempts: 3,
  retryDelaySec: { busy: 60, no_answer: 120, network_failure: 30, rejected: 600 },
};
const now = 1_000_000;

function step(outcome: Outcome, attemptCount: number, expiresAt: number | null = null, notDialedCount = 0) {
  return nextStepAfterAttempt({ outcome, nowMs: now, attemptCount, notDialedCount, expiresAt, policy });
}

describe('retry policy after an attempt (R3.6)', () => {
  it.each([
    ['busy', 60_000],
    ['no_answer', 120_000],
    ['network_failure', 30_000],
    ['rejected', 600_000],
  ] as const)('%s is retried after its delay while attempts remain', (outcome, delay) => {
    expect(step(outcome, 1)).toEqual({ status: 'queued', notBefore: now + delay });
    expect(step(outcome, 3)).toEqual({ status: 'completed', outcome });
  });

  it.each(['answered', 'unknown', 'invalid_number', 'cancelled'] as const)(
    '%s is never dialed again',
    (outcome) => {
      expect(step(outcome, 1)).toEqual({ status: 'completed', outcome });
    },
  );

  it('not_dialed goes back at once the first time, then backs off, and never counts as an attempt', () => {
    expect(step('not_dialed', 0, null, 1)).toEqual({ status: 'queued', notBefore: now });
    expect(step('not_dialed', 3, null, 1)).toEqual({ status: 'queued', notBefore: now });
    expect(notDialedBackoffMs(2)).toBe(250);
    expect(notDialedBackoffMs(3)).toBe(500);
    expect(notDialedBackoffMs(50)).toBe(30_000);
  });

  it('nothing is scheduled at or past the expiry', () => {
    expect(step('busy', 1, now + 60_000)).toEqual({ status: 'expired', outcome: 'busy' });
    expect(step('busy', 1, now + 60_001)).toEqual({ status: 'queued', notBefore: now + 60_000 });
    expect(step('not_dialed', 0, now, 1)).toEqual({ status: 'expired', outcome: 'not_dialed' });
  });

  it('decides every outcome', () => {
    for (const outcome of OUTCOMES)
      expect(['queued', 'completed', 'expired']).toContain(step(outcome, 1).status);
  });
});
