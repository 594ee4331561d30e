/**
 * Layer 3: one Event Socket connection to one FreeSWITCH, kept alive.
 *
 * Lifecycle (guarded transitions, STYLE habit 9):
 *   idle → connecting → authenticating → ready → reconnecting → connecting → …;  any → closed.
 * Each TCP connection gets its own parser and reply queue; nothing of an old socket survives a
 * reconnect, so no listener is ever attached twice and no reply of the old socket can reach a
 * command of the new one.
 *
 * Never replay (STYLE habit 4): when a connection is lost every in-flight command rejects with
 * EslDisconnectedError and is not resent — an `originate` whose reply was lost may have rung a
 * phone. Pending bgapi results reject too: the BACKGROUND_JOB may still arrive on the new connection
 * (it is then delivered to onEvent listeners), but the client cannot promise it will.
 */
import { createConnection, type Socket } from 'node:net';
import { type BackoffPolicy, fullJitterDelayMs } from './backoff.js';
import {
  assertEventNames,
  assertFilter,
  assertPassword,
  renderApi,
  renderAuth,
  renderBgapi,
  renderEventSubscription,
  renderFilter,
  renderFilterDelete,
  renderSendmsg,
  renderSessionCommand,
  type SendmsgMessage,
  type WireCommand,
} from './commands.js';
import {
  EslAuthError,
  EslClosedError,
  EslCommandError,
  EslDisconnectedError,
  EslError,
  EslInputError,
  EslProtocolError,
  EslQueueFullError,
  EslTimeoutError,
} from './errors.js';
import type { EslEvent } from './event.js';
import { type Frame, FrameParser } from './frame-parser.js';
import { type CommandReply, decodeMessage } from './message.js';
import { type Reply, ReplyQueue } from './reply-queue.js';
import { redactCommand } from './wire-safety.js';

export type EslClientStatus = 'idle' | 'connecting' | 'authenticating' | 'ready' | 'reconnecting' | 'closed';

/** pino-compatible. */
export interface EslLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface EslClientOptions {
  host: string;
  port: number;
  password: string;
  /** Subscribed after auth (and after every reconnect) with `event plain|json <names>`. */
  events: readonly string[];
  format?: 'plain' | 'json';
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
  logger?: EslLogger;
}

export interface BackgroundJob {
  readonly jobUuid: string;
  /** The `+OK Job-UUID: …` reply. Rejects with EslCommandError, EslDisconnectedError, EslTimeoutError… */
  readonly accepted: Promise<void>;
  /** Body of the matching BACKGROUND_JOB event, e.g. "+OK <uuid>\n" or "-ERR USER_BUSY\n". */
  readonly result: Promise<string>;
}

export type { SendmsgMessage } from './commands.js';

/** After this many timed-out replies still owed, the switch is not answering: drop the socket. */
const MAX_ABANDONED_REPLIES = 64;
const EXIT_GRACE_MS = 1000;

const TRANSITIONS: Readonly<Record<EslClientStatus, readonly EslClientStatus[]>> = {
  idle: ['connecting', 'closed'],
  connecting: ['authenticating', 'reconnecting', 'closed'],
  authenticating: ['ready', 'reconnecting', 'closed'],
  ready: ['reconnecting', 'closed'],
  reconnecting: ['connecting', 'closed'],
  closed: [],
};

const silentLogger: EslLogger = { debug() {}, info() {}, warn() {}, error() {} };

interface Connection {
  readonly socket: Socket;
  readonly parser: FrameParser;
  readonly replies: ReplyQueue;
  /** Why this connection is going away (first cause wins). */
  cause: Error | undefined;
  dropped: boolean;
  /** close() sent `exit`: incoming frames are ignored until the socket closes. */
  closing: boolean;
  authRequested: boolean;
  /** Body of a text/disconnect-notice, when the switch announced that it closes the socket. */
  notice: string | undefined;
  authWaiter: { resolve(): void; reject(error: Error): void } | undefined;
  deadline: NodeJS.Timeout | undefined;
}

interface PendingJob {
  resolve(body: string): void;
  reject(error: Error): void;
}

export class EslClient {
  readonly #options: Required<Omit<EslClientOptions, 'filters' | 'reconnect'>> & {
    reconnect: false | BackoffPolicy;
  };
  readonly #log: EslLogger;
  #status: EslClientStatus = 'idle';
  #connection: Connection | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #filters: Array<readonly [string, string]>;
  readonly #jobs = new Map<string, PendingJob>();
  readonly #statusListeners = new Set<(status: EslClientStatus, cause?: Error) => void>();
  readonly #eventListeners = new Set<(event: EslEvent) => void>();
  #closing: Promise<void> | undefined;

  constructor(options: EslClientOptions) {
    assertPassword(options.password);
    assertEventNames(options.events);
    for (const [header, value] of options.filters ?? []) assertFilter(header, value);
    this.#options = {
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
    };
    this.#log = this.#options.logger;
    this.#filters = (options.filters ?? []).map(([h, v]) => [h, v] as const);
  }

  get status(): EslClientStatus {
    return this.#status;
  }

  /** Filters currently applied (and re-applied after a reconnect). */
  get filters(): ReadonlyArray<readonly [string, string]> {
    return [...this.#filters];
  }

  onStatus(listener: (status: EslClientStatus, cause?: Error) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  onEvent(listener: (event: EslEvent) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  start(): void {
    if (this.#status !== 'idle') throw new Error(`EslClient.start() called in status ${this.#status}`);
    this.#connect();
  }

  ready(): Promise<void> {
    if (this.#status === 'ready') return Promise.resolve();
    if (this.#status === 'closed') return Promise.reject(new EslClosedError('client is closed'));
    return new Promise((resolve, reject) => {
      const off = this.onStatus((status) => {
        if (status === 'ready') {
          off();
          resolve();
        } else if (status === 'closed') {
          off();
          reject(new EslClosedError('client closed before it became ready'));
        }
      });
    });
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#status === 'closed') {
      this.#closing = Promise.resolve();
      return this.#closing;
    }
    const connection = this.#connection;
    const wasReady = this.#status === 'ready';
    clearTimeout(this.#reconnectTimer);
    this.#setStatus('closed');
    const closed = new EslClosedError('client closed');
    this.#rejectJobs(closed);
    if (!connection) {
      this.#closing = Promise.resolve();
      return this.#closing;
    }
    connection.replies.rejectAll(closed);
    connection.closing = true;
    this.#closing = new Promise<void>((resolve) => {
      connection.socket.once('close', () => resolve());
      const grace = setTimeout(() => connection.socket.destroy(), wasReady ? EXIT_GRACE_MS : 0);
      connection.socket.once('close', () => clearTimeout(grace));
      if (wasReady) connection.socket.write('exit\n\n');
    });
    return this.#closing;
  }

  async api(command: string, options: { timeoutMs?: number } = {}): Promise<string> {
    const reply = await this.#request(renderApi(command), options.timeoutMs);
    return reply.kind === 'api/response' ? reply.body : '';
  }

  bgapi(command: string, options: { jobUuid: string; timeoutMs?: number }): BackgroundJob {
    const { jobUuid } = options;
    let accepted: Promise<void>;
    let result: Promise<string>;
    try {
      const wire = renderBgapi(command, jobUuid);
      if (this.#jobs.has(jobUuid)) throw new EslInputError(`job ${jobUuid} is already in flight`);
      result = new Promise<string>((resolve, reject) => this.#jobs.set(jobUuid, { resolve, reject }));
      accepted = this.#request(wire, options.timeoutMs).then((reply) => {
        if (reply.kind === 'command/reply' && reply.reply.ok) return;
        throw new EslCommandError(
          reply.kind === 'command/reply' ? reply.reply.replyText : 'unexpected reply',
        );
      });
      accepted.catch((error: unknown) => {
        const job = this.#jobs.get(jobUuid);
        this.#jobs.delete(jobUuid);
        job?.reject(error instanceof Error ? error : new EslCommandError(String(error)));
      });
    } catch (error) {
      accepted = Promise.reject(error);
      result = accepted.then(() => '');
    }
    // Callers often await only one of the two; the other must not crash the process as an
    // unhandled rejection. Both still reject for anyone who awaits them.
    accepted.catch(() => {});
    result.catch(() => {});
    return { jobUuid, accepted, result };
  }

  /** A raw session command (event, filter, nixevent, noevents, myevents, linger, nolinger, exit…). */
  async command(line: string, options: { timeoutMs?: number } = {}): Promise<CommandReply> {
    return this.#commandReply(renderSessionCommand(line), options.timeoutMs);
  }

  async filter(header: string, value: string): Promise<void> {
    await this.#checked(renderFilter(header, value));
    if (!this.#filters.some(([h, v]) => h === header && v === value)) this.#filters.push([header, value]);
  }

  async filterDelete(header: string, value?: string): Promise<void> {
    await this.#checked(renderFilterDelete(header, value));
    this.#filters =
      header === 'all' && value === undefined
        ? []
        : this.#filters.filter(([h, v]) => !(h === header && (value === undefined || v === value)));
  }

  async sendmsg(uuid: string, message: SendmsgMessage): Promise<CommandReply> {
    return this.#commandReply(renderSendmsg(uuid, message));
  }

  // ---- requests ---------------------------------------------------------------------------------

  async #commandReply(command: WireCommand, timeoutMs?: number): Promise<CommandReply> {
    const reply = await this.#request(command, timeoutMs);
    if (reply.kind !== 'command/reply') throw new EslProtocolError('expected command/reply');
    return reply.reply;
  }

  /** Sends and requires a +OK reply. */
  async #checked(command: WireCommand, timeoutMs?: number, duringHandshake = false): Promise<CommandReply> {
    const reply = await this.#request(command, timeoutMs, duringHandshake);
    if (reply.kind !== 'command/reply' || !reply.reply.ok) {
      throw new EslCommandError(reply.kind === 'command/reply' ? reply.reply.replyText : 'unexpected reply');
    }
    return reply.reply;
  }

  #request(command: WireCommand, timeoutMs?: number, duringHandshake = false): Promise<Reply> {
    const { wire, replyKind } = command;
    const connection = this.#connection;
    const usable = duringHandshake ? this.#status === 'authenticating' : this.#status === 'ready';
    if (this.#status === 'closed') return Promise.reject(new EslClosedError('client is closed'));
    if (!connection || !usable || connection.dropped) {
      return Promise.reject(
        new EslDisconnectedError(`not connected (status ${this.#status}); nothing was sent`),
      );
    }
    if (
      connection.replies.pendingCount >= this.#options.maxPendingCommands ||
      connection.socket.writableLength > this.#options.maxQueuedBytes
    ) {
      return Promise.reject(new EslQueueFullError('outgoing queue is full; nothing was sent'));
    }
    const label = redactCommand(wire.split('\n', 1)[0]!);
    const timeout = timeoutMs ?? this.#options.commandTimeoutMs;
    const promise = connection.replies.expect(replyKind, label, timeout, () => {
      this.#log.warn({ command: label, timeoutMs: timeout }, 'esl reply timed out; its slot is abandoned');
      if (connection.replies.abandonedCount > MAX_ABANDONED_REPLIES) {
        this.#drop(connection, new EslTimeoutError('switch stopped answering commands'));
      }
    });
    this.#log.debug({ command: label }, 'esl send');
    connection.socket.write(wire);
    return promise;
  }

  // ---- connection -------------------------------------------------------------------------------

  #connect(): void {
    this.#setStatus('connecting');
    const socket = createConnection({ host: this.#options.host, port: this.#options.port });
    socket.setNoDelay(true);
    const connection: Connection = {
      socket,
      parser: new FrameParser({ maxBodyBytes: this.#options.maxFrameBytes }),
      replies: new ReplyQueue(),
      cause: undefined,
      dropped: false,
      closing: false,
      authRequested: false,
      notice: undefined,
      authWaiter: undefined,
      deadline: undefined,
    };
    this.#connection = connection;
    connection.deadline = setTimeout(() => {
      this.#drop(connection, new EslTimeoutError(`not ready within ${this.#options.connectTimeoutMs} ms`));
    }, this.#options.connectTimeoutMs);
    socket.on('connect', () => {
      if (this.#connection !== connection || this.#status !== 'connecting') return;
      this.#setStatus('authenticating');
      this.#handshake(connection).then(
        () => {
          clearTimeout(connection.deadline);
          if (this.#connection !== connection || connection.dropped || this.#status !== 'authenticating')
            return;
          this.#attempt = 0;
          this.#setStatus('ready');
        },
        (error: unknown) => this.#drop(connection, asError(error)),
      );
    });
    socket.on('data', (chunk: Buffer) => this.#onData(connection, chunk));
    socket.on('error', (error) => {
      connection.cause ??= new EslDisconnectedError(`socket error: ${error.message}`, { cause: error });
    });
    socket.on('close', () => this.#onClose(connection));
  }

  async #handshake(connection: Connection): Promise<void> {
    if (!connection.authRequested) {
      await new Promise<void>((resolve, reject) => {
        connection.authWaiter = { resolve, reject };
      });
    }
    const auth = await this.#request(renderAuth(this.#options.password), undefined, true);
    if (auth.kind !== 'command/reply' || !auth.reply.ok) {
      const text = auth.kind === 'command/reply' ? auth.reply.replyText : 'unexpected reply';
      this.#log.error(
        { host: this.#options.host, port: this.#options.port, reply: text },
        'esl authentication failed: check the event socket password; retrying with backoff',
      );
      throw new EslAuthError(`authentication refused: ${text}`);
    }
    if (this.#options.events.length > 0) {
      await this.#checked(
        renderEventSubscription(this.#options.format, this.#options.events),
        undefined,
        true,
      );
    }
    for (const [header, value] of this.#filters) {
      await this.#checked(renderFilter(header, value), undefined, true);
    }
  }

  #onData(connection: Connection, chunk: Buffer): void {
    if (connection.dropped || connection.closing) return;
    try {
      connection.parser.push(chunk, (frame) => this.#onFrame(connection, frame));
    } catch (error) {
      this.#drop(connection, asError(error));
    }
  }

  #onFrame(connection: Connection, frame: Frame): void {
    if (connection.dropped || connection.closing) return;
    const message = decodeMessage(frame);
    switch (message.type) {
      case 'auth/request':
        if (connection.authRequested) throw new EslProtocolError('second auth/request on one connection');
        connection.authRequested = true;
        connection.authWaiter?.resolve();
        return;
      case 'command/reply':
        connection.replies.deliver({ kind: 'command/reply', reply: message.reply });
        return;
      case 'api/response':
        connection.replies.deliver({ kind: 'api/response', body: message.body });
        return;
      case 'event':
        this.#dispatchEvent(message.event);
        return;
      case 'disconnect-notice':
        this.#log.info(
          { notice: message.body.trim().slice(0, 200) },
          'esl disconnect notice from the switch',
        );
        connection.notice = message.body.trim().slice(0, 200);
        return;
      case 'log/data':
        this.#log.debug({ switchLog: message.body.slice(0, 500) }, 'esl log/data');
        return;
      case 'rude-rejection':
        throw new EslAuthError(`switch refused the connection (ACL): ${message.body.trim().slice(0, 200)}`);
    }
  }

  #dispatchEvent(event: EslEvent): void {
    if (event.name === 'BACKGROUND_JOB' && event.jobUuid !== undefined) {
      const job = this.#jobs.get(event.jobUuid);
      if (job) {
        this.#jobs.delete(event.jobUuid);
        job.resolve(event.body ?? '');
      }
    }
    for (const listener of this.#eventListeners) {
      try {
        listener(event);
      } catch (error) {
        // A consumer bug must not kill the connection that carries every other call's events.
        this.#log.error({ err: error, event: event.name }, 'esl event listener threw');
      }
    }
  }

  #drop(connection: Connection, cause: Error): void {
    if (connection.dropped) return;
    connection.dropped = true;
    connection.cause ??= cause;
    this.#log.warn(
      { err: cause, code: cause instanceof EslError ? cause.code : undefined },
      'esl dropping connection',
    );
    connection.socket.destroy();
  }

  #onClose(connection: Connection): void {
    if (this.#connection !== connection) return;
    this.#connection = undefined;
    clearTimeout(connection.deadline);
    if (this.#status === 'closed') return;
    if (!connection.cause && connection.parser.isMidFrame) {
      connection.cause = new EslProtocolError('connection closed in the middle of a frame');
    }
    const cause =
      connection.cause ??
      new EslDisconnectedError(
        connection.notice === undefined
          ? 'connection closed by the switch'
          : `switch disconnected us: ${connection.notice}`,
      );
    const lost = new EslDisconnectedError('connection lost: the command may or may not have run', { cause });
    connection.replies.rejectAll(lost);
    connection.authWaiter?.reject(lost);
    this.#rejectJobs(lost);
    if (this.#options.reconnect === false) {
      this.#setStatus('closed', cause);
      return;
    }
    this.#setStatus('reconnecting', cause);
    const delayMs = fullJitterDelayMs(this.#attempt++, this.#options.reconnect, this.#options.random);
    this.#log.info({ delayMs, attempt: this.#attempt, err: cause }, 'esl reconnecting');
    this.#reconnectTimer = setTimeout(() => {
      if (this.#status === 'reconnecting') this.#connect();
    }, delayMs);
  }

  #rejectJobs(error: Error): void {
    const jobs = [...this.#jobs.values()];
    this.#jobs.clear();
    for (const job of jobs) job.reject(error);
  }

  #setStatus(next: EslClientStatus, cause?: Error): void {
    if (!TRANSITIONS[this.#status].includes(next)) {
      throw new Error(`EslClient: illegal status transition ${this.#status} -> ${next}`);
    }
    this.#status = next;
    for (const listener of [...this.#statusListeners]) {
      try {
        listener(next, cause);
      } catch (error) {
        this.#log.error({ err: error, status: next }, 'esl status listener threw');
      }
    }
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new EslProtocolError(String(error));
}
