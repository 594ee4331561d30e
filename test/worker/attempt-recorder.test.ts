import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import type { AttemptEnding, Store } from '../../src/store/contract.js';
import { AttemptRecorder } from '../../src/worker/attempt-recorder.js';

const logger = createLogger('silent');

function ending(attemptId: string): AttemptEnding {
  return {
    attemptId,
    taskId: `task-${attemptId}`,
    endedAtMs: 1_000,
    hangupCause: 'USER_BUSY',
    sipCode: 486,
    outcome: 'busy',
    mayHaveReachedCallee: true,
    next: { status: 'completed', outcome: 'busy' },
    countsAsAttempt: true,
  };
}

/** A store whose writes wait until the test lets them through (a slow group commit). */
function slowStore() {
  const gates: Array<{ open: () => void; fail: (error: Error) => void }> = [];
  const finished: string[][] = [];
  const store = {
    dispatch: {
      recordProgress: async () => {},
      finish: (endings: AttemptEnding[]) =>
        new Promise<void>((resolve, reject) => {
          gates.push({
            open: () => {
              finished.push(endings.map((e) => e.attemptId));
              resolve();
            },
            fail: reject,
          });
        }),
    },
  } as unknown as Store;
  return { store, gates, finished };
}

describe('AttemptRecorder', () => {
  it('knows an ending is on its way until its group commit is durable — or has failed', async () => {
    const { store, gates, finished } = slowStore();
    const recorder = new AttemptRecorder(store, () => 1_000, logger, 10_000);
    recorder.recordEnding(ending('a1'), 'c1');
    expect(recorder.isEndingUnwritten('a1')).toBe(true);
    const first = recorder.flush();
    recorder.recordEnding(ending('a2'), 'c1');
    const second = recorder.flush();
    // The first batch is being written, the second waits behind it: both are still unwritten.
    await new Promise((resolve) => setImmediate(resolve));
    expect([recorder.isEndingUnwritten('a1'), recorder.isEndingUnwritten('a2')]).toEqual([true, true]);
    gates[0]!.open();
    await first;
    expect([recorder.isEndingUnwritten('a1'), recorder.isEndingUnwritten('a2')]).toEqual([false, true]);
    await new Promise((resolve) => setImmediate(resolve));
    gates[1]!.fail(new Error('connection reset'));
    await second;
    // A failed write leaves the row open: recovery must be free to settle it.
    expect(recorder.isEndingUnwritten('a2')).toBe(false);
    expect(finished).toEqual([['a1']]);
  });
});
