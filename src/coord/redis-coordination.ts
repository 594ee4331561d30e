import { Redis, type RedisOptions } from 'ioredis';
import { pino } from 'pino';
import type { Clock, Coordination } from './cluster-contract.js';
import { createRedisContext } from './redis-context.js';
import { RedisKeys } from './redis-keys.js';
import { RedisLeaderLease } from './redis-leader-lease.js';
import { RedisMembership } from './redis-membership.js';
import { RedisRateLimits } from './redis-rate-limits.js';
import { RedisSlotLedger } from './redis-slot-ledger.js';
import { RedisStreams } from './redis-streams.js';
import { RedisSwitchVotes } from './redis-switch-votes.js';
import { type CoordLogger, StreamBus } from './stream-bus.js';

export interface RedisCoordinationOptions {
  /** `redis://[user:password@]host:port[/db]` */
  url: string;
  /** Prefixes every key (`sb:{<namespace>}:…`); letters, digits, `_`, `.`, `-`. */
  namespace: string;
  /**
   * Leave unset in production: every expiry is then decided by the Redis server's clock (TIME
   * inside the scripts), one clock for all processes, so skew between hosts cannot shorten or
   * stretch a lease. Set it only where one process drives time (tests with a virtual clock): the
   * scripts then use the value it passes instead.
   */
  clock?: Clock;
  logger?: CoordLogger;
  /** Entries kept per bus stream (XADD MAXLEN ~). Default 100,000 (~30 s of worker events at full load). */
  streamMaxLength?: number;
  /** Entries per XREAD. Default 1,000. */
  readBatchSize?: number;
  /** How long an XREAD blocks on the server. Default 5,000 ms. */
  readBlockMs?: number;
  /**
   * A call on the command connection (scripts, publishes) that gets no reply in this time rejects
   * (and may still take effect later: ioredis resends it after a reconnect). Default 5,000 ms.
   */
  commandTimeoutMs?: number;
}

/** Idle expiry of bus streams: a stream nobody publishes to for a day goes away. */
const BUS_IDLE_TTL_MS = 24 * 3_600_000;
/** Requests and replies matter for seconds; their streams go away after ten idle minutes. */
const RPC_IDLE_TTL_MS = 10 * 60_000;

/**
 * Coordination on Redis (cluster mode). One command connection for the scripts and publishes,
 * plus one dedicated connection per subscription, server and replies stream (blocking reads hold
 * their connection). Resolves once Redis answers.
 */
export async function createRedisCoordination(options: RedisCoordinationOptions): Promise<Coordination> {
  const keys = new RedisKeys(options.namespace);
  const logger = options.logger ?? pino({ base: { service: 'switchboard' } });
  const blockMs = options.readBlockMs ?? 5_000;
  const connect = (role: string, extra: RedisOptions): Redis => {
    const connection = new Redis(options.url, {
      // RESP2: the reply shapes this code reads (ioredis 6 defaults to RESP3 maps for XREAD).
      protocol: 2,
      connectionName: `sb:${options.namespace}:${role}`,
      ...extra,
    });
    connection.on('error', (error: unknown) => {
      logger.warn({ err: error, role }, 'coord redis: connection error (ioredis reconnects)');
    });
    return connection;
  };

  // In-flight commands are resent after a reconnect (ioredis' default): every script is either
  // idempotent for its caller or, like bus-publish, skips a resent call. The command timeout
  // bounds every call, so a caller (a leader renewing its lease) never waits out an outage.
  const main = connect('main', { commandTimeout: options.commandTimeoutMs ?? 5_000 });
  try {
    await main.ping();
  } catch (error) {
    main.disconnect();
    throw error;
  }
  const context = createRedisContext(main, keys, options.clock);
  const streamMaxLength = options.streamMaxLength ?? 100_000;
  const streams = new RedisStreams(
    context,
    {
      kinds: {
        bus: { maxLength: streamMaxLength, idleTtlMs: BUS_IDLE_TTL_MS },
        request: { maxLength: 10_000, idleTtlMs: RPC_IDLE_TTL_MS },
        reply: { maxLength: 10_000, idleTtlMs: RPC_IDLE_TTL_MS },
      },
      batchSize: options.readBatchSize ?? 1_000,
      blockMs,
    },
    // A reader never gives up on a command (it waits out an outage), and a socket silent for
    // longer than a blocked read can last is dead (half-open): it is dropped and reconnected.
    () => connect('reader', { maxRetriesPerRequest: null, socketTimeout: blockMs + 10_000 }),
    logger,
  );
  const bus = new StreamBus(streams, logger);
  let closing: Promise<void> | null = null;
  return {
    leader: new RedisLeaderLease(context),
    members: new RedisMembership(context),
    votes: new RedisSwitchVotes(context),
    limits: new RedisRateLimits(context),
    ledger: new RedisSlotLedger(context),
    bus,
    close() {
      closing ??= (async () => {
        await bus.close();
        await closeConnection(main, logger);
      })();
      return closing;
    },
  };
}

/**
 * QUIT when connected (pending replies arrive first), bounded, then disconnect. Calls still in
 * flight on a connection that is reconnecting are left pending by ioredis 6.0.0's `disconnect()`
 * (redis/ioredis#2197), which is why every call on it also has a command timeout.
 */
async function closeConnection(connection: Redis, logger: CoordLogger): Promise<void> {
  if (connection.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 2_000);
    });
    await Promise.race([
      connection.quit().then(
        () => {},
        (error: unknown) => logger.warn({ err: error }, 'coord redis: QUIT failed; disconnecting'),
      ),
      timeout,
    ]);
    clearTimeout(timer);
  }
  connection.disconnect();
}
