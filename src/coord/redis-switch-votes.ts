import type { SwitchView, SwitchVotes } from './cluster-contract.js';
import { CoordProtocolError, requireId, requireTtlMs } from './coord-errors.js';
import { arrayReply, type RedisContext, stringReply } from './redis-context.js';
import { scripts } from './redis-scripts.js';
import { tallyVotes, type WorkerVote } from './switch-tally.js';

/**
 * Switch votes on Redis: `lua/votes-*.lua`, one hash `votes` whose fields are JSON
 * `[switchId, workerId]` (unambiguous whatever characters the ids hold).
 */
export class RedisSwitchVotes implements SwitchVotes {
  constructor(private readonly context: RedisContext) {}

  async vote(switchId: string, workerId: string, reachable: boolean, ttlMs: number): Promise<void> {
    requireId('switchId', switchId);
    requireId('workerId', workerId);
    const { redis, keys, graceMs } = this.context;
    await scripts.votesCast.run(
      redis,
      [keys.votes()],
      [
        this.context.nowArg(),
        JSON.stringify([switchId, workerId]),
        reachable ? '1' : '0',
        requireTtlMs(ttlMs),
        graceMs,
      ],
    );
  }

  async votes(liveWorkerIds: readonly string[]): Promise<Map<string, SwitchView>> {
    const reply = arrayReply(
      'votes-read',
      await scripts.votesRead.run(this.context.redis, [this.context.keys.votes()], [this.context.nowArg()]),
    );
    const votes: WorkerVote[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const [switchId, workerId] = parseField(stringReply('votes-read', reply[i]));
      votes.push({ switchId, workerId, isReachable: reply[i + 1] === '1' });
    }
    return tallyVotes(votes, liveWorkerIds);
  }
}

function parseField(field: string): [string, string] {
  const value: unknown = JSON.parse(field);
  if (!Array.isArray(value) || typeof value[0] !== 'string' || typeof value[1] !== 'string')
    throw new CoordProtocolError(`votes-read: malformed field ${field}`);
  return [value[0], value[1]];
}
