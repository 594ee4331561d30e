import type { SimProfile } from '../../src/sim/index.js';

/** Carriers fast enough for tests: every outcome occurs, calls last well under a second. */
export const FAST_CARRIERS: SimProfile = {
  gateways: {
    carrier1: {
      answer: 0.6,
      busy: 0.15,
      noAnswer: 0.1,
      invalid: 0.05,
      congestion: 0.1,
      ringMs: { minMs: 50, maxMs: 300 },
      talkMs: { minMs: 100, maxMs: 600 },
    },
    carrier2: {
      answer: 0.5,
      busy: 0.2,
      noAnswer: 0.15,
      invalid: 0.05,
      congestion: 0.1,
      ringMs: { minMs: 50, maxMs: 300 },
      talkMs: { minMs: 100, maxMs: 600 },
    },
  },
};
