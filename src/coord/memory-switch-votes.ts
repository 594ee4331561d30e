import type { Clock, SwitchView, SwitchVotes } from './cluster-contract.js';
import { requireId, requireTtlMs } from './coord-errors.js';
import { tallyVotes, type WorkerVote } from './switch-tally.js';

/** Switch votes in one process's memory: the same rules as `lua/votes-*.lua`. */
export class MemorySwitchVotes implements SwitchVotes {
  /** switch id → worker id → vote */
  private readonly bySwitch = new Map<string, Map<string, { isReachable: boolean; expiresAtMs: number }>>();

  constructor(private readonly clock: Clock) {}

  async vote(switchId: string, workerId: string, reachable: boolean, ttlMs: number): Promise<void> {
    requireId('switchId', switchId);
    requireId('workerId', workerId);
    const ttl = requireTtlMs(ttlMs);
    let workers = this.bySwitch.get(switchId);
    if (workers === undefined) {
      workers = new Map();
      this.bySwitch.set(switchId, workers);
    }
    workers.set(workerId, { isReachable: reachable, expiresAtMs: this.clock() + ttl });
  }

  async votes(liveWorkerIds: readonly string[]): Promise<Map<string, SwitchView>> {
    const nowMs = this.clock();
    const unexpired: WorkerVote[] = [];
    for (const [switchId, workers] of this.bySwitch) {
      for (const [workerId, vote] of workers) {
        if (vote.expiresAtMs > nowMs) unexpired.push({ switchId, workerId, isReachable: vote.isReachable });
        else workers.delete(workerId);
      }
      if (workers.size === 0) this.bySwitch.delete(switchId);
    }
    return tallyVotes(unexpired, liveWorkerIds);
  }
}
