/**
 * How a campaign chooses among the routes (line × switch) that could carry its next call (R3.8).
 * Every strategy returns an order to try; the core takes the first whose slots it can acquire,
 * so a resource at its cap is simply passed over.
 */
import type { SelectionStrategy } from '../domain/resources.js';

export { SELECTION_STRATEGIES, type SelectionStrategy } from '../domain/resources.js';

export interface RouteCandidate {
  lineId: string;
  switchId: string;
  /** Line weight (for `weighted`). */
  weight: number;
  /** In-flight calls on the line ÷ its concurrency cap (for `least_loaded`). */
  lineLoad: number;
  /** The switch's load, 0..1 (ties broken toward the less loaded switch). */
  switchLoad: number;
  /** Smoothed answer rate of the line (for `answer_rate_first`). */
  answerScore: number;
}

export interface SelectionContext {
  random: () => number;
  /** Per-campaign counter for round robin. */
  cursor: number;
  /** Share of decisions that explore in random order under answer-rate-first (a new or recovered line gets a fair trial). */
  explorationShare: number;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Weighted random order without replacement (Efraimidis–Spirakis keys). */
function weightedOrder<T extends RouteCandidate>(items: T[], random: () => number): T[] {
  return items
    .map((item) => ({ item, key: random() ** (1 / Math.max(item.weight, 1e-9)) }))
    .sort((a, b) => b.key - a.key)
    .map((entry) => entry.item);
}

export function orderRoutes<T extends RouteCandidate>(
  strategy: SelectionStrategy,
  candidates: readonly T[],
  context: SelectionContext,
): T[] {
  const routes = [...candidates];
  if (routes.length <= 1) return routes;
  switch (strategy) {
    case 'round_robin': {
      const start = context.cursor % routes.length;
      return [...routes.slice(start), ...routes.slice(0, start)];
    }
    case 'random':
      return shuffle(routes, context.random);
    case 'weighted':
      return weightedOrder(routes, context.random);
    case 'least_loaded':
      return routes.sort((a, b) => a.lineLoad - b.lineLoad || a.switchLoad - b.switchLoad);
    case 'answer_rate_first': {
      if (context.random() < context.explorationShare) return shuffle(routes, context.random);
      // Random tie-break first, then a stable sort: equal scores share the traffic.
      return shuffle(routes, context.random).sort(
        (a, b) => b.answerScore - a.answerScore || a.switchLoad - b.switchLoad,
      );
    }
  }
}
