import { describe, expect, it } from 'vitest';
import {
  orderRoutes,
  type RouteCandidate,
  SELECTION_STRATEGIES,
} from '../../src/scheduler/route-selection.js';

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function route(lineId: string, extra: Partial<RouteCandidate> = {}): RouteCandidate {
  return { lineId, switchId: 'sw', weight: 1, lineLoad: 0, switchLoad: 0, answerScore: 0.3, ...extra };
}

/** How often each line comes first over many decisions. */
function firstChoices(
  strategy: (typeof SELECTION_STRATEGIES)[number],
  routes: RouteCandidate[],
  runs = 10_000,
) {
  const random = seeded(11);
  const counts = new Map<string, number>();
  for (let i = 0; i < runs; i++) {
    const first = orderRoutes(strategy, routes, { random, cursor: i, explorationShare: 0.1 })[0]!.lineId;
    counts.set(first, (counts.get(first) ?? 0) + 1);
  }
  return counts;
}

describe('route selection strategies (R3.8)', () => {
  const three = [route('a'), route('b'), route('c')];

  it('every strategy returns every candidate exactly once', () => {
    for (const strategy of SELECTION_STRATEGIES) {
      const ordered = orderRoutes(strategy, three, { random: seeded(1), cursor: 5, explorationShare: 0.1 });
      expect(ordered.map((r) => r.lineId).sort()).toEqual(['a', 'b', 'c']);
    }
  });

  it('round robin rotates through the candidates in turn', () => {
    const order = (cursor: number) =>
      orderRoutes('round_robin', three, { random: seeded(1), cursor, explorationShare: 0 }).map(
        (r) => r.lineId,
      );
    expect(order(0)).toEqual(['a', 'b', 'c']);
    expect(order(1)).toEqual(['b', 'c', 'a']);
    expect(order(5)).toEqual(['c', 'a', 'b']);
  });

  it('random spreads first choices evenly', () => {
    for (const n of firstChoices('random', three).values()) expect(n / 10_000).toBeCloseTo(1 / 3, 1);
  });

  it('weighted gives first choice in proportion to line weight', () => {
    const counts = firstChoices('weighted', [route('a', { weight: 1 }), route('b', { weight: 3 })]);
    expect(counts.get('b')! / counts.get('a')!).toBeGreaterThan(2.6);
    expect(counts.get('b')! / counts.get('a')!).toBeLessThan(3.4);
  });

  it('least loaded prefers the emptiest line, then the emptiest switch', () => {
    const ordered = orderRoutes(
      'least_loaded',
      [
        route('busy', { lineLoad: 0.9 }),
        route('idle', { lineLoad: 0.1, switchLoad: 0.5 }),
        route('idle2', { lineLoad: 0.1, switchLoad: 0.2 }),
      ],
      { random: seeded(1), cursor: 0, explorationShare: 0 },
    );
    expect(ordered.map((r) => r.lineId)).toEqual(['idle2', 'idle', 'busy']);
  });

  it('answer-rate first prefers the better line but explores with the configured share', () => {
    const counts = firstChoices('answer_rate_first', [
      route('good', { answerScore: 0.6 }),
      route('poor', { answerScore: 0.2 }),
    ]);
    // 90 % exploit (good first) + 10 % explore split evenly: good first ≈ 95 %.
    expect(counts.get('good')! / 10_000).toBeCloseTo(0.95, 1);
    expect(counts.get('poor')!).toBeGreaterThan(300);
  });
});
