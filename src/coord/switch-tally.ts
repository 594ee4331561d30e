import type { SwitchView } from './cluster-contract.js';

export interface WorkerVote {
  switchId: string;
  workerId: string;
  isReachable: boolean;
}

/** Groups unexpired votes by switch, keeping only live workers' (both backends share this). */
export function tallyVotes(
  votes: Iterable<WorkerVote>,
  liveWorkerIds: readonly string[],
): Map<string, SwitchView> {
  const live = new Set(liveWorkerIds);
  const views = new Map<string, SwitchView>();
  for (const vote of votes) {
    if (!live.has(vote.workerId)) continue;
    let view = views.get(vote.switchId);
    if (view === undefined) {
      view = { up: [], down: [] };
      views.set(vote.switchId, view);
    }
    (vote.isReachable ? view.up : view.down).push(vote.workerId);
  }
  for (const view of views.values()) {
    view.up.sort();
    view.down.sort();
  }
  return views;
}
