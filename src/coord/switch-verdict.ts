import type { SwitchView } from './cluster-contract.js';

/**
 * Whether a switch is in the dialing pool, from the live workers' votes (R3.9). It leaves when
 * more than half of the live workers see it down, and returns when more than half reach it
 * again; anything in between (a split view, too few votes, no votes at all) keeps its previous
 * state, so one worker with a broken route cannot take a switch out, and a switch does not flap
 * while the votes trickle in. A worker counted twice (duplicate ids) counts once.
 */
export function switchVerdict(
  votes: SwitchView | undefined,
  liveWorkers: number,
  wasInPool: boolean,
): boolean {
  if (votes === undefined || liveWorkers <= 0) return wasInPool;
  const majority = liveWorkers / 2;
  if (wasInPool) return new Set(votes.down).size <= majority;
  return new Set(votes.up).size > majority;
}
