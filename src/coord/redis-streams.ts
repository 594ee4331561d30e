import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Subscription } from './cluster-contract.js';
import { integerReply, type RedisContext } from './redis-context.js';
import { scripts } from './redis-scripts.js';
import type { CoordLogger, StreamKind, StreamTransport } from './stream-bus.js';

export interface RedisStreamLimits {
  /** Per kind: the stream's cap (MAXLEN ~) and how long it lives without a publish. */
  kinds: Record<StreamKind, { maxLength: number; idleTtlMs: number }>;
  /** Entries per XREAD (COUNT). */
  batchSize: number;
  /** How long one XREAD blocks on the server before the reader loops. */
  blockMs: number;
}

/**
 * Bus streams on Redis Streams. A publish is one script call (`lua/bus-publish.lua`: every
 * message of the call in one round trip, all or nothing, never twice). Each follower reads on a
 * dedicated connection — a blocking XREAD holds its connection — from the stream's last id as
 * seen when it started.
 */
export class RedisStreams implements StreamTransport {
  /** Numbers this transport's publish calls (see bus-publish.lua: a resend is skipped). */
  private readonly publisherId = randomUUID();
  private callNumber = 0;

  constructor(
    private readonly context: RedisContext,
    private readonly limits: RedisStreamLimits,
    /** Opens a dedicated reader connection. */
    private readonly openReader: () => Redis,
    private readonly logger: CoordLogger,
  ) {}

  async append(kind: StreamKind, name: string, payloads: readonly string[]): Promise<void> {
    if (payloads.length === 0) return;
    const { keys, redis } = this.context;
    const { maxLength, idleTtlMs } = this.limits.kinds[kind];
    this.callNumber += 1;
    const reply = await scripts.busPublish.runInOrder(
      redis,
      [keys.stream(kind, name), keys.publishers(kind, name)],
      [this.publisherId, this.callNumber, maxLength, idleTtlMs, ...payloads],
    );
    integerReply('bus-publish', reply);
  }

  follow(kind: StreamKind, name: string, onBatch: (payloads: string[]) => Promise<void>): Subscription {
    const key = this.context.keys.stream(kind, name);
    // Issued now on the command connection, so it is ordered with this process's publishes.
    const start = lastIdOf(this.context.redis, key);
    return new RedisStreamFollower(this.openReader(), key, start, onBatch, this.limits, this.logger);
  }
}

/** The last entry's id, or 0-0 for a missing or empty stream (every later entry is above it). */
async function lastIdOf(redis: Redis, key: string): Promise<string> {
  const [last] = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
  return last?.[0] ?? '0-0';
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

/** What a read raced against `close` yields once the follower is closed. */
const CLOSED = Symbol('closed');

class RedisStreamFollower implements Subscription {
  private isClosed = false;
  private isDelivering = false;
  private readonly done: Promise<void>;
  /**
   * Settles when `close` is called. Every Redis call of the loop races it: ioredis 6.0.0 leaves a
   * command pending forever when `disconnect()` comes while it reconnects (the command sits in a
   * stash only a successful reconnect drains; redis/ioredis#2197), so closing cannot rely on the
   * pending XREAD being rejected.
   */
  private readonly closed: Promise<typeof CLOSED>;
  private signalClosed: () => void = () => {};

  constructor(
    private readonly connection: Redis,
    private readonly key: string,
    start: Promise<string>,
    private readonly onBatch: (payloads: string[]) => Promise<void>,
    private readonly limits: RedisStreamLimits,
    private readonly logger: CoordLogger,
  ) {
    this.closed = new Promise((resolve) => {
      this.signalClosed = () => resolve(CLOSED);
    });
    this.done = this.run(start);
  }

  async close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true;
      this.signalClosed();
      this.connection.disconnect();
    }
    // Closed from inside the handler: the loop ends when the handler returns; do not wait for it.
    if (!this.isDelivering) await this.done;
  }

  private async run(start: Promise<string>): Promise<void> {
    const startId = await this.startId(start);
    if (startId === CLOSED) return;
    let lastId = startId;
    let failures = 0;
    while (!this.isClosed) {
      try {
        const reply = await this.untilClosed(
          this.connection.xread(
            'COUNT',
            this.limits.batchSize,
            'BLOCK',
            this.limits.blockMs,
            'STREAMS',
            this.key,
            lastId,
          ),
        );
        if (reply === CLOSED) return;
        failures = 0;
        const entries = reply?.[0]?.[1] ?? [];
        const last = entries.at(-1);
        if (last === undefined) {
          const rewound = await this.rewindIfRecreated(lastId);
          if (rewound === CLOSED) return;
          lastId = rewound;
          continue;
        }
        // Moved before delivery: whatever the handler does, these entries are never read again.
        lastId = last[0];
        this.isDelivering = true;
        try {
          await this.onBatch(entries.map(([, fields]) => payloadOf(fields)));
        } finally {
          this.isDelivering = false;
        }
      } catch (error) {
        if (this.isClosed) return;
        this.logger.warn({ err: error, stream: this.key }, 'coord bus: stream read failed, retrying');
        await this.untilClosed(delay(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** failures)));
        failures += 1;
      }
    }
  }

  /** The start point the command connection took; if that failed, the stream's end as of now. */
  private async startId(start: Promise<string>): Promise<string | typeof CLOSED> {
    try {
      return await this.untilClosed(start);
    } catch (error) {
      this.logger.warn({ err: error, stream: this.key }, 'coord bus: start point lookup failed, retrying');
    }
    for (let failures = 0; !this.isClosed; failures++) {
      try {
        return await this.untilClosed(lastIdOf(this.connection, this.key));
      } catch (error) {
        if (this.isClosed) break;
        this.logger.warn({ err: error, stream: this.key }, 'coord bus: start point lookup failed, retrying');
        await this.untilClosed(delay(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** failures)));
      }
    }
    return CLOSED;
  }

  /**
   * A read that timed out may mean the stream was lost (a Redis restart without persistence) and
   * recreated with ids below ours, which XREAD would skip until the server's clock passes them:
   * then every entry of the new stream is unread, and reading starts over from its beginning.
   */
  private async rewindIfRecreated(lastId: string): Promise<string | typeof CLOSED> {
    const streamLastId = await this.untilClosed(lastIdOf(this.connection, this.key));
    if (streamLastId === CLOSED) return CLOSED;
    if (streamLastId === '0-0' || compareIds(streamLastId, lastId) >= 0) return lastId;
    this.logger.warn(
      { stream: this.key, lastId, streamLastId },
      'coord bus: the stream was recreated below the last id read; reading it from its start',
    );
    return '0-0';
  }

  /** Races `work` against `close` (a rejection of `work` after closing is absorbed by the race). */
  private untilClosed<T>(work: Promise<T>): Promise<T | typeof CLOSED> {
    return this.isClosed ? Promise.resolve(CLOSED) : Promise.race([work, this.closed]);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** The `m` field of an entry written by bus-publish.lua ('' when absent, which the bus drops as not JSON). */
function payloadOf(fields: readonly string[]): string {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'm') return fields[i + 1] ?? '';
  return '';
}

/** Orders stream ids `<ms>-<seq>` numerically. */
export function compareIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs !== bMs ? aMs - bMs : aSeq - bSeq;
}
