/**
 * Coordination between the processes of a cluster (ARCHITECTURE: coord/, cluster mode): who is the
 * one active scheduler, which processes are alive, how the workers see each switch, and the
 * message streams between roles. None of it is durable truth: after a loss of the backend every
 * part is rebuilt by the live processes (the fencing counter from a floor the store provides).
 *
 * Two implementations behind these interfaces: in memory (embedded mode, tests) and on Redis
 * (cluster mode); one conformance suite (`test/coord/conformance.test.ts`) runs on both.
 */

import type { RateLimits } from './rate-limits.js';

/** Milliseconds since the epoch. */
export type Clock = () => number;

/** The leader lease with a fencing token (one active scheduler, warm standbys). */
export interface LeaderLease {
  /**
   * Becomes leader of `scope` if nobody holds it (or the holder's lease expired), or renews it if
   * `holderId` already holds it. Returns the fencing token while held (a new, strictly larger token
   * every time leadership changes hands, and never below `floorToken + 1` — the store's highest
   * seen token, so a Redis that lost its data cannot hand out an old token), or null if another
   * holder has it.
   */
  acquire(scope: string, holderId: string, ttlMs: number, floorToken: number): Promise<number | null>;
  /** Extends the lease only if `holderId` still holds it under `token`; false = deposed, stop at once. */
  renew(scope: string, holderId: string, token: number, ttlMs: number): Promise<boolean>;
  /** Gives the lease up (only if still held under `token`), so a standby takes over at once. */
  release(scope: string, holderId: string, token: number): Promise<void>;
  current(scope: string): Promise<LeaseHolder | null>;
}

export interface LeaseHolder {
  holderId: string;
  token: number;
  /** In the backend's clock (Redis server time unless a clock was given): compare with care. */
  expiresAtMs: number;
}

/** Liveness of processes by role ('worker', 'scheduler', 'api'), with a small info record. */
export interface Membership {
  /** Announces (or refreshes) a live member until `nowMs + ttlMs`. */
  heartbeat(role: string, memberId: string, ttlMs: number, info: Record<string, string>): Promise<void>;
  /** Members whose heartbeat has not expired, by member id. */
  live(role: string): Promise<LiveMember[]>;
  leave(role: string, memberId: string): Promise<void>;
}

export interface LiveMember {
  memberId: string;
  info: Record<string, string>;
  /** In the backend's clock, like `LeaseHolder.expiresAtMs`. */
  expiresAtMs: number;
}

/** How the live workers see one switch: ids of those that reach it and of those that do not. */
export interface SwitchView {
  up: string[];
  down: string[];
}

/** Each worker's view of each switch (R3.9): a switch leaves the pool when a majority of live workers vote it down. */
export interface SwitchVotes {
  /** Records `workerId`'s current view of `switchId` (reachable or not), valid for `ttlMs`. */
  vote(switchId: string, workerId: string, reachable: boolean, ttlMs: number): Promise<void>;
  /**
   * Unexpired votes of the given live workers, by switch id. A switch appears when at least one of
   * those workers has an unexpired vote on it; ids are sorted.
   */
  votes(liveWorkerIds: readonly string[]): Promise<Map<string, SwitchView>>;
}

/** Ordered message streams between roles (scheduler → a worker's orders, workers → scheduler events, api → scheduler notices). */
export interface MessageBus {
  /**
   * Appends messages (JSON-serialisable objects) to `stream`, in order and all at once; the
   * stream is capped (oldest trimmed). A rejection means "unknown": the messages may or may not
   * have been appended.
   */
  publish(stream: string, messages: readonly unknown[]): Promise<void>;
  /**
   * Delivers messages appended to `stream` AFTER the subscription started (no history), in order,
   * in batches, to `handler` (awaited before the next batch). At-most-once: a message delivered is
   * never delivered again to that subscription, even when the handler throws (the error is
   * logged). A subscriber that falls behind by more than the stream's cap loses the trimmed
   * messages. Survives a Redis restart (reconnects and goes on).
   *
   * "Started" is ordered with this bus's own publishes: a message this process publishes after
   * `subscribe` returned is delivered; one published before is not.
   */
  subscribe(stream: string, handler: (messages: unknown[]) => void | Promise<void>): Subscription;
  /**
   * One request/reply round trip (e.g. the api asking the leader for a campaign's dispatch status);
   * rejects with `CoordTimeoutError` after `timeoutMs`, with `CoordRemoteError` when the server's
   * handler threw. The first reply wins: if several processes serve the stream, later replies are
   * dropped.
   */
  request(stream: string, message: unknown, timeoutMs: number): Promise<unknown>;
  /**
   * Serves requests sent with `request` on `stream` (only those sent after serving started). The
   * requests of one batch are handled concurrently; the next batch waits for them.
   */
  serve(stream: string, handler: (message: unknown) => Promise<unknown>): Subscription;
  /** Ends every subscription and server of this bus; pending requests reject with `CoordClosedError`. */
  close(): Promise<void>;
}

export interface Subscription {
  /** After this resolves the handler is not called again (a batch being handled may still finish). */
  close(): Promise<void>;
}

/**
 * The scheduler's in-flight leases per resource and its CAPS pace state, as coordination keeps
 * them (ARCHITECTURE: coord/). One leader decides from its own memory (one writer, fenced by its
 * token) and writes every change here before the orders it concerns leave, so a successor starts
 * from the same pace and the same calls in flight, and anyone can read in-flight counts per
 * resource. The store stays the truth about which calls are open: a successor keeps only the
 * leases of open attempts and adds those missing (`replace`). After a loss (a Redis restart
 * without persistence) the ledger is rebuilt from the leader's memory, which came from the store.
 *
 * Times are the leader's clock (epoch ms); the hosts' clocks must agree (NTP), as for order ages.
 */
export interface SlotLedger {
  /**
   * Applies one batch of changes under `fence`. `fenced`: a leader with a newer token has taken
   * the ledger — stop. `lost`: the ledger is gone (backend restarted empty) and nothing was
   * written — write the whole state with `replace`. Idempotent: a batch resent after a reconnect
   * changes nothing more.
   */
  write(fence: number, change: LedgerChange, nowMs: number): Promise<LedgerWriteResult>;
  /**
   * A new leader takes the ledger: from now on writes under an older token are refused. Returns
   * what its predecessors left (pace entries still inside `paceWindowMs`, unexpired leases), and
   * whether the ledger is complete — kept without a gap since a leader declared it so — or null
   * if a newer token already holds it.
   */
  take(fence: number, nowMs: number, paceWindowMs: number): Promise<LedgerSnapshot | null>;
  /**
   * Replaces everything with `state` under `fence` (after `take`, or after `lost`); `complete`
   * declares that `state` holds every grant that can still reach a switch.
   */
  replace(fence: number, state: LedgerState, complete: boolean): Promise<LedgerWriteResult>;
  /** Calls in flight per resource key (e.g. `line:<id>`), as the ledger holds them; 0 if none. */
  inFlight(keys: readonly string[]): Promise<Map<string, number>>;
}

/** One call granted: its lease over every level it uses, and its entry in each paced level's log. */
export interface LedgerGrant {
  leaseId: string;
  /** Every level key the call holds a concurrent slot of. */
  keys: string[];
  expiresAtMs: number;
  /** Its pace entries: at the latest time the call can reach its switch, and the level's schedule after it. */
  paced: Array<{ key: string; atMs: number; tat: number }>;
}

export interface LedgerChange {
  grants: LedgerGrant[];
  /** Leases ended (call over, or expired); their pace entries stay until they leave the window. */
  released: string[];
}

export type LedgerWriteResult = 'ok' | 'fenced' | 'lost';

export interface LedgerState {
  /** Per level key: the schedule (GCRA theoretical arrival time) and the entry times in the window. */
  pace: Map<string, { tat: number; entries: number[] }>;
  leases: Map<string, { keys: string[]; expiresAtMs: number }>;
}

export interface LedgerSnapshot extends LedgerState {
  /** Every grant that can still reach a switch is in it (false after a loss until a leader rebuilt it). */
  complete: boolean;
  /** The token of the last leader that took it, or null if it did not exist. */
  previousFence: number | null;
}

/** Everything above, from one backend. */
export interface Coordination {
  readonly leader: LeaderLease;
  readonly members: Membership;
  readonly votes: SwitchVotes;
  readonly bus: MessageBus;
  /** The API rate limit and the login throttle, shared by every api process (`rate-limits.ts`). */
  readonly limits: RateLimits;
  /** The scheduler's in-flight leases and pace state. */
  readonly ledger: SlotLedger;
  close(): Promise<void>;
}
