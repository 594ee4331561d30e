/**
 * Options of the Event Socket client and their defaults, shared by the connection and the
 * command surface.
 */
import type { BackoffPolicy } from './backoff.js';

/** How events come over the socket: text/event-plain, text/event-json or text/event-xml. */
export type EslEventFormat = 'plain' | 'json' | 'xml';

export type EslClientStatus = 'idle' | 'connecting' | 'authenticating' | 'ready' | 'reconnecting' | 'closed';

/** pino-compatible. */
export interface EslLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface LivenessOptions {
  /** The switch's HEARTBEAT interval (FreeSWITCH: 20 s). Watched only when HEARTBEAT or ALL is subscribed. */
  heartbeatIntervalMs?: number;
  /** Missing HEARTBEAT for this many intervals drops the connection. Default 2.5. */
  missedHeartbeatFactor?: number;
  /** Send `api status` this often while ready; off when undefined. */
  probeIntervalMs?: number;
  /** A probe unanswered this long drops the connection. Default 5000. */
  probeTimeoutMs?: number;
}

export interface EslClientOptions {
  host: string;
  port: number;
  password: string;
  /** Subscribed after auth (and after every reconnect) with `event plain|json|xml <names>`. */
  events: readonly string[];
  /** Default plain. Every format decodes to the same typed events. */
  format?: EslEventFormat;
  /** Applied after auth and re-applied after every reconnect, with those added by filter(). */
  filters?: ReadonlyArray<readonly [header: string, value: string]>;
  /** TCP connect + auth + subscription must finish within this. Default 5000. */
  connectTimeoutMs?: number;
  /** Default deadline for a reply. Default 30000. */
  commandTimeoutMs?: number;
  reconnect?: false | BackoffPolicy;
  random?: () => number;
  /** Largest frame body accepted. Default 8 MiB. */
  maxFrameBytes?: number;
  /** Commands awaiting a reply before new ones are refused. Default 1000. */
  maxPendingCommands?: number;
  /** Bytes buffered for the socket (not yet taken by the kernel) before commands are refused. Default 1 MiB. */
  maxQueuedBytes?: number;
  /** Dead-switch detection; `false` turns it off. Default: HEARTBEAT watch at 20 s × 2.5, no probe. */
  liveness?: false | LivenessOptions;
  logger?: EslLogger;
}

export type ResolvedOptions = Required<Omit<EslClientOptions, 'filters' | 'reconnect' | 'liveness'>> & {
  reconnect: false | BackoffPolicy;
  /** Undefined when HEARTBEAT is not subscribed or liveness is off. */
  heartbeatDeadlineMs: number | undefined;
  probeIntervalMs: number | undefined;
  probeTimeoutMs: number;
};

export function resolveOptions(options: EslClientOptions): ResolvedOptions {
  const liveness = options.liveness === false ? undefined : (options.liveness ?? {});
  const watchesHeartbeat = options.events.some((name) => name === 'HEARTBEAT' || name === 'ALL');
  const heartbeatDeadlineMs =
    liveness && watchesHeartbeat
      ? (liveness.heartbeatIntervalMs ?? 20_000) * (liveness.missedHeartbeatFactor ?? 2.5)
      : undefined;
  return {
    host: options.host,
    port: options.port,
    password: options.password,
    events: [...options.events],
    format: options.format ?? 'plain',
    connectTimeoutMs: options.connectTimeoutMs ?? 5000,
    commandTimeoutMs: options.commandTimeoutMs ?? 30_000,
    reconnect: options.reconnect ?? { minDelayMs: 100, maxDelayMs: 30_000 },
    random: options.random ?? Math.random,
    maxFrameBytes: options.maxFrameBytes ?? 8 * 1024 * 1024,
    maxPendingCommands: options.maxPendingCommands ?? 1000,
    maxQueuedBytes: options.maxQueuedBytes ?? 1024 * 1024,
    logger: options.logger ?? silentLogger,
    heartbeatDeadlineMs,
    probeIntervalMs: liveness?.probeIntervalMs,
    probeTimeoutMs: liveness?.probeTimeoutMs ?? 5000,
  };
}

const silentLogger: EslLogger = { debug() {}, info() {}, warn() {}, error() {} };
