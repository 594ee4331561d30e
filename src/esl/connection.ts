/**
 * Layer 3: one Event Socket connection to one FreeSWITCH, kept alive. The command surface
 * (api, bgapi and its jobs, filters, sendmsg) is client.ts; this module owns the socket, the
 * handshake, reply correlation, liveness and reconnect.
 *
 * Lifecycle (guarded transitions, STYLE habit 9):
 *   idle → connecting → authenticating → ready → reconnecting → connecting → …;  any → closed.
 * Each TCP connection gets its own parser and reply queue; nothing of an old socket survives a
 * reconnect, so no listener is ever attached twice and no reply of the old socket can reach a
 * command of the new one.
 *
 * Never replay (STYLE habit 4): when a connection is lost every in-flight command rejects with
 * EslDisconnectedError and is not resent — an `originate` whose reply was lost may have rung a
 * phone. The owner hears of the loss through `onLost` before the status changes.
 *
 * Liveness: a switch can stay connected and say nothing (hung, or a half-open TCP path). With
 * HEARTBEAT subscribed (and let through by the filters), no HEARTBEAT within
 * `missedHeartbeatFactor` × the expected interval drops the connection; with `probeIntervalMs`, an `api status` probe that gets no reply within
 * `probeTimeoutMs` does too. Either ends in the normal reconnect.
 */
import { createConnection, type Socket } from 'node:net';
import { fullJitterDelayMs } from './backoff.js';
import {
  renderApi,
  renderAuth,
  renderEventSubscription,
  renderFilter,
  type WireCommand,
} from './commands.js';
import {
  EslAuthError,
  EslClosedError,
  EslCommandError,
  EslDisconnectedError,
  EslError,
  EslProtocolError,
  EslQueueFullError,
  EslTimeoutError,
} from './errors.js';
import type { EslEvent } from './event.js';
import { type Frame, FrameParser } from './frame-parser.js';
import { type CommandReply, decodeMessage } from './message.js';
import type { EslClientStatus, EslLogger, ResolvedOptions } from './options.js';
import { type Reply, ReplyQueue } from './reply-queue.js';
import { maskNumbers, redactCommand } from './wire-safety.js';

/** What the command surface hears from its connection. */
export interface ConnectionOwner {
  /** Filters to apply after auth, read at every handshake. */
  filters(): ReadonlyArray<readonly [string, string]>;
  onEvent(event: EslEvent): void;
  /** The socket is gone: every command in flight has been rejected with `error`. */
  onLost(error: Error): void;
}

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

interface Socketed {
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
  heartbeatWatch: NodeJS.Timeout | undefined;
  probe: NodeJS.Timeout | undefined;
}

export class EslConnection {
  readonly #options: ResolvedOptions;
  readonly #owner: ConnectionOwner;
  readonly #log: EslLogger;
  #status: EslClientStatus = 'idle';
  #current: Socketed | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #attempt = 0;
  readonly #statusListeners = new Set<(status: EslClientStatus, cause?: Error) => void>();
  #closing: Promise<void> | undefined;

  constructor(options: ResolvedOptions, owner: ConnectionOwner) {
    this.#options = options;
    this.#owner = owner;
    this.#log = options.logger;
  }

  get status(): EslClientStatus {
    return this.#status;
  }

  onStatus(listener: (status: EslClientStatus, cause?: Error) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  start(): void {
    if (this.#status !== 'idle') throw new Error(`EslClient.start() called in status ${this.#status}`);
    this.#connect();
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#status === 'closed') {
      this.#closing = Promise.resolve();
      return this.#closing;
    }
    const current = this.#current;
    const wasReady = this.#status === 'ready';
    clearTimeout(this.#reconnectTimer);
    this.#setStatus('closed');
    const closed = new EslClosedError('client closed');
    this.#owner.onLost(closed);
    if (!current) {
      this.#closing = Promise.resolve();
      return this.#closing;
    }
    this.#stopLiveness(current);
    current.replies.rejectAll(closed);
    current.closing = true;
    this.#closing = new Promise<void>((resolve) => {
      current.socket.once('close', () => resolve());
      const grace = setTimeout(() => current.socket.destroy(), wasReady ? EXIT_GRACE_MS : 0);
      current.socket.once('close', () => clearTimeout(grace));
      if (wasReady) current.socket.write('exit\n\n');
    });
    return this.#closing;
  }

  /** Sends a rendered command and resolves with its reply; nothing is queued while not ready. */
  request(command: WireCommand, timeoutMs?: number, duringHandshake = false): Promise<Reply> {
    const { wire, replyKind } = command;
    const current = this.#current;
    const usable = duringHandshake ? this.#status === 'authenticating' : this.#status === 'ready';
    if (this.#status === 'closed') return Promise.reject(new EslClosedError('client is closed'));
    if (!current || !usable || current.dropped) {
      return Promise.reject(
        new EslDisconnectedError(`not connected (status ${this.#status}); nothing was sent`),
      );
    }
    if (
      current.replies.pendingCount >= this.#options.maxPendingCommands ||
      current.socket.writableLength > this.#options.maxQueuedBytes
    ) {
      return Promise.reject(new EslQueueFullError('outgoing queue is full; nothing was sent'));
    }
    const label = redactCommand(wire.split('\n', 1)[0]!);
    const timeout = timeoutMs ?? this.#options.commandTimeoutMs;
    const promise = current.replies.expect(replyKind, label, timeout, () => {
      this.#log.warn({ command: label, timeoutMs: timeout }, 'esl reply timed out; its slot is abandoned');
      if (current.replies.abandonedCount > MAX_ABANDONED_REPLIES) {
        this.#drop(current, new EslTimeoutError('switch stopped answering commands'));
      }
    });
    this.#log.debug({ command: label }, 'esl send');
    current.socket.write(wire);
    return promise;
  }

  /** Sends and requires a +OK command/reply. */
  async checked(command: WireCommand, timeoutMs?: number, duringHandshake = false): Promise<CommandReply> {
    const reply = await this.request(command, timeoutMs, duringHandshake);
    if (reply.kind !== 'command/reply' || !reply.reply.ok) {
      throw new EslCommandError(reply.kind === 'command/reply' ? reply.reply.replyText : 'unexpected reply');
    }
    return reply.reply;
  }

  // ---- one socket -------------------------------------------------------------------------------

  #connect(): void {
    this.#setStatus('connecting');
    const socket = createConnection({ host: this.#options.host, port: this.#options.port });
    socket.setNoDelay(true);
    const current: Socketed = {
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
      heartbeatWatch: undefined,
      probe: undefined,
    };
    this.#current = current;
    current.deadline = setTimeout(() => {
      this.#drop(current, new EslTimeoutError(`not ready within ${this.#options.connectTimeoutMs} ms`));
    }, this.#options.connectTimeoutMs);
    socket.on('connect', () => {
      if (this.#current !== current || this.#status !== 'connecting') return;
      this.#setStatus('authenticating');
      this.#handshake(current).then(
        () => {
          clearTimeout(current.deadline);
          if (this.#current !== current || current.dropped || this.#status !== 'authenticating') return;
          this.#attempt = 0;
          this.#startLiveness(current);
          this.#setStatus('ready');
        },
        (error: unknown) => this.#drop(current, asError(error)),
      );
    });
    socket.on('data', (chunk: Buffer) => this.#onData(current, chunk));
    socket.on('error', (error) => {
      current.cause ??= new EslDisconnectedError(`socket error: ${error.message}`, { cause: error });
    });
    socket.on('close', () => this.#onClose(current));
  }

  async #handshake(current: Socketed): Promise<void> {
    if (!current.authRequested) {
      await new Promise<void>((resolve, reject) => {
        current.authWaiter = { resolve, reject };
      });
    }
    const auth = await this.request(renderAuth(this.#options.password), undefined, true);
    if (auth.kind !== 'command/reply' || !auth.reply.ok) {
      const text = auth.kind === 'command/reply' ? auth.reply.replyText : 'unexpected reply';
      this.#log.error(
        { host: this.#options.host, port: this.#options.port, reply: text },
        'esl authentication failed: check the event socket password; retrying with backoff',
      );
      throw new EslAuthError(`authentication refused: ${text}`);
    }
    if (this.#options.events.length > 0) {
      await this.checked(
        renderEventSubscription(this.#options.format, this.#options.events),
        undefined,
        true,
      );
    }
    for (const [header, value] of this.#owner.filters()) {
      await this.checked(renderFilter(header, value), undefined, true);
    }
  }

  /** Bytes read from the switch over the life of this client (all connections). */
  bytesReceived = 0;

  #onData(current: Socketed, chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    if (current.dropped || current.closing) return;
    try {
      current.parser.push(chunk, (frame) => this.#onFrame(current, frame));
    } catch (error) {
      this.#drop(current, asError(error));
    }
  }

  #onFrame(current: Socketed, frame: Frame): void {
    if (current.dropped || current.closing) return;
    const message = decodeMessage(frame);
    switch (message.type) {
      case 'auth/request':
        if (current.authRequested) throw new EslProtocolError('second auth/request on one connection');
        current.authRequested = true;
        current.authWaiter?.resolve();
        return;
      case 'command/reply':
        current.replies.deliver({ kind: 'command/reply', reply: message.reply });
        return;
      case 'api/response':
        current.replies.deliver({ kind: 'api/response', body: message.body });
        return;
      case 'event':
        if (message.event.name === 'HEARTBEAT') this.#armHeartbeatWatch(current);
        this.#owner.onEvent(message.event);
        return;
      case 'disconnect-notice':
        this.#log.info(
          { notice: message.body.trim().slice(0, 200) },
          'esl disconnect notice from the switch',
        );
        current.notice = message.body.trim().slice(0, 200);
        return;
      case 'log/data':
        // The switch's own log quotes dial strings and caller ids: numbers are masked here too, before
        // the cut, so a number straddling it is not half shown.
        this.#log.debug(
          { switchLog: maskNumbers(message.body.slice(0, 1000)).slice(0, 500) },
          'esl log/data',
        );
        return;
      case 'rude-rejection':
        throw new EslAuthError(`switch refused the connection (ACL): ${message.body.trim().slice(0, 200)}`);
    }
  }

  // ---- liveness ---------------------------------------------------------------------------------

  #startLiveness(current: Socketed): void {
    this.#armHeartbeatWatch(current);
    const every = this.#options.probeIntervalMs;
    if (every === undefined) return;
    current.probe = setInterval(() => {
      if (current.dropped || this.#current !== current || this.#status !== 'ready') return;
      const timeoutMs = this.#options.probeTimeoutMs;
      this.request(renderApi('status'), timeoutMs).then(
        () => {},
        (error: unknown) => {
          // Only silence proves the switch dead; a refused probe (queue full, closing) does not.
          if (error instanceof EslTimeoutError) {
            this.#drop(current, new EslTimeoutError(`liveness probe unanswered within ${timeoutMs} ms`));
          }
        },
      );
    }, every);
    current.probe.unref();
  }

  #armHeartbeatWatch(current: Socketed): void {
    const deadlineMs = this.#options.heartbeatDeadlineMs;
    if (deadlineMs === undefined || current.dropped || !this.#heartbeatPassesFilters()) return;
    clearTimeout(current.heartbeatWatch);
    current.heartbeatWatch = setTimeout(() => {
      // filter() may have shut HEARTBEAT out since the watch was armed.
      if (!this.#heartbeatPassesFilters()) return;
      this.#drop(current, new EslTimeoutError(`no HEARTBEAT within ${deadlineMs} ms`));
    }, deadlineMs);
    current.heartbeatWatch.unref();
  }

  /**
   * FreeSWITCH filters are filter-in: once any is set, HEARTBEAT arrives only if a filter lets it
   * through (ESL-NOTES), so without one silence proves nothing and the watch stays off.
   */
  #heartbeatPassesFilters(): boolean {
    const filters = this.#owner.filters();
    return (
      filters.length === 0 ||
      filters.some(([header, value]) => header === 'Event-Name' && value.toUpperCase() === 'HEARTBEAT')
    );
  }

  #stopLiveness(current: Socketed): void {
    clearTimeout(current.heartbeatWatch);
    clearInterval(current.probe);
  }

  // ---- loss and reconnect -----------------------------------------------------------------------

  #drop(current: Socketed, cause: Error): void {
    if (current.dropped) return;
    current.dropped = true;
    current.cause ??= cause;
    this.#stopLiveness(current);
    this.#log.warn(
      { err: cause, code: cause instanceof EslError ? cause.code : undefined },
      'esl dropping connection',
    );
    current.socket.destroy();
  }

  #onClose(current: Socketed): void {
    if (this.#current !== current) return;
    this.#current = undefined;
    clearTimeout(current.deadline);
    this.#stopLiveness(current);
    if (this.#status === 'closed') return;
    if (!current.cause && current.parser.isMidFrame) {
      current.cause = new EslProtocolError('connection closed in the middle of a frame');
    }
    const cause =
      current.cause ??
      new EslDisconnectedError(
        current.notice === undefined
          ? 'connection closed by the switch'
          : `switch disconnected us: ${current.notice}`,
      );
    const lost = new EslDisconnectedError('connection lost: the command may or may not have run', { cause });
    current.replies.rejectAll(lost);
    current.authWaiter?.reject(lost);
    this.#owner.onLost(lost);
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
