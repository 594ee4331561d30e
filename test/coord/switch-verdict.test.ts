import { describe, expect, it } from 'vitest';
import { switchVerdict } from '../../src/coord/switch-verdict.js';

const view = (up: number, down: number) => ({
  up: Array.from({ length: up }, (_, i) => `up${i}`),
  down: Array.from({ length: down }, (_, i) => `down${i}`),
});

describe('switchVerdict', () => {
  it.each([
    // [up, down, live workers, was in pool, in pool now]
    [0, 1, 1, true, false], // the only worker sees it down
    [1, 0, 1, false, true], // the only worker reaches it again
    [0, 1, 2, true, true], // one of two: not more than half
    [0, 2, 2, true, false],
    [1, 1, 2, true, true], // a split keeps the state…
    [1, 1, 2, false, false], // …either way
    [0, 2, 3, true, false], // 2 of 3 is a majority
    [1, 1, 3, true, true], // a vote missing: 1 of 3 down is not
    [2, 0, 3, false, true],
    [1, 0, 3, false, false], // one reaching it is not enough to return
    [0, 2, 4, true, true], // exactly half is not more than half
    [2, 0, 4, false, false],
    [0, 3, 4, true, false],
    [3, 0, 4, false, true],
    [0, 0, 4, true, true], // no votes from live workers: keep
    [0, 0, 4, false, false],
    [3, 2, 5, false, true], // majority up brings it back even with some down
    [2, 3, 5, true, false],
    [5, 0, 5, true, true], // already in and up: stays
    [0, 5, 5, false, false], // already out and down: stays out
  ] as const)('up %i, down %i of %i live, was in pool %s → %s', (up, down, live, wasInPool, expected) => {
    expect(switchVerdict(view(up, down), live, wasInPool)).toBe(expected);
  });

  it('keeps its state with no votes at all, or no live workers', () => {
    expect(switchVerdict(undefined, 3, true)).toBe(true);
    expect(switchVerdict(undefined, 3, false)).toBe(false);
    expect(switchVerdict(view(0, 3), 0, true)).toBe(true);
    expect(switchVerdict(view(3, 0), 0, false)).toBe(false);
  });

  it('counts a worker listed twice once', () => {
    expect(switchVerdict({ up: [], down: ['w1', 'w1'] }, 3, true)).toBe(true);
    expect(switchVerdict({ up: ['w1', 'w1'], down: [] }, 3, false)).toBe(false);
  });
});
