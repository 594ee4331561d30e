import { pino } from 'pino';
import type { Clock, Coordination } from './cluster-contract.js';
import { MemoryLeaderLease } from './memory-leader-lease.js';
import { MemoryMembership } from './memory-membership.js';
import { MemoryRateLimits } from './memory-rate-limits.js';
import { MemorySlotLedger } from './memory-slot-ledger.js';
import { MemoryStreams } from './memory-streams.js';
import { MemorySwitchVotes } from './memory-switch-votes.js';
import { type CoordLogger, StreamBus } from './stream-bus.js';

export interface MemoryCoordinationOptions {
  /** Defaults to `Date.now`; tests drive a virtual clock. */
  clock?: Clock;
  logger?: CoordLogger;
  /** Entries kept per bus stream (oldest trimmed). Default 100,000. */
  streamMaxLength?: number;
  /** Messages per delivered batch. Default 1,000. */
  batchSize?: number;
}

/** Coordination in one process (embedded mode). `peer()` is another process on the same state. */
export interface MemoryCoordination extends Coordination {
  /** A second view on the same lease, members, votes, limits, ledger and streams, with its own bus (own subscriptions). */
  peer(): MemoryCoordination;
}

interface SharedState {
  leader: MemoryLeaderLease;
  members: MemoryMembership;
  votes: MemorySwitchVotes;
  limits: MemoryRateLimits;
  ledger: MemorySlotLedger;
  streams: MemoryStreams;
  logger: CoordLogger;
}

export function createMemoryCoordination(options: MemoryCoordinationOptions = {}): MemoryCoordination {
  const clock = options.clock ?? Date.now;
  const streamMaxLength = options.streamMaxLength ?? 100_000;
  return view({
    leader: new MemoryLeaderLease(clock),
    members: new MemoryMembership(clock),
    votes: new MemorySwitchVotes(clock),
    limits: new MemoryRateLimits(clock),
    ledger: new MemorySlotLedger(),
    streams: new MemoryStreams({
      maxLength: { bus: streamMaxLength, request: 10_000, reply: 10_000 },
      batchSize: options.batchSize ?? 1_000,
    }),
    logger: options.logger ?? pino({ base: { service: 'switchboard' } }),
  });
}

function view(shared: SharedState): MemoryCoordination {
  const bus = new StreamBus(shared.streams, shared.logger);
  return {
    leader: shared.leader,
    members: shared.members,
    votes: shared.votes,
    limits: shared.limits,
    ledger: shared.ledger,
    bus,
    peer: () => view(shared),
    close: () => bus.close(),
  };
}
