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

/** Everything above, from one backend. */
export interface Coordination {
  readonly leader: LeaderLease;
  readonly members: Membership;
  readonly votes: SwitchVotes;
  readonly bus: MessageBus;
  /** The API rate limit and the login throttle, shared by every api process (`rate-limits.ts`). */
  readonly limits: RateLimits;
  close(): Promise<void>;
}
