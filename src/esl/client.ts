/**
 * Layer 4 surface: the commands Switchboard sends over one Event Socket connection (api, bgapi
 * with our own Job-UUID correlated from BACKGROUND_JOB, session commands, filters, sendmsg). The
 * socket, handshake, replies, liveness and reconnect are connection.ts.
 *
 * Pending bgapi results reject when the connection is lost: the BACKGROUND_JOB may still arrive on
 * the new connection (it is then delivered to onEvent listeners), but the client cannot promise it
 * will, and it never resends the bgapi (STYLE habit 4).
 */
import {
  assertEventNames,
  assertFilter,
  assertPassword,
  renderApi,
  renderBgapi,
  renderFilter,
  renderFilterDelete,
  renderSendmsg,
  renderSessionCommand,
  type SendmsgMessage,
  type WireCommand,
} from './commands.js';
import { EslConnection } from './connection.js';
import { EslClosedError, EslCommandError, EslInputError, EslProtocolError } from './errors.js';
import type { EslEvent } from './event.js';
import type { CommandReply } from './message.js';
import { type EslClientOptions, type EslClientStatus, type EslLogger, resolveOptions } from './options.js';

export type { SendmsgMessage } from './commands.js';
export type {
  EslClientOptions,
  EslClientStatus,
  EslEventFormat,
  EslLogger,
  LivenessOptions,
} from './options.js';

export interface BackgroundJob {
  readonly jobUuid: string;
  /** The `+OK Job-UUID: …` reply. Rejects with EslCommandError, EslDisconnectedError, EslTimeoutError… */
  readonly accepted: Promise<void>;
  /** Body of the matching BACKGROUND_JOB event, e.g. "+OK <uuid>\n" or "-ERR USER_BUSY\n". */
  readonly result: Promise<string>;
}

interface PendingJob {
  resolve(body: string): void;
  reject(error: Error): void;
}

export class EslClient {
  readonly #connection: EslConnection;
  readonly #log: EslLogger;
  #filters: Array<readonly [string, string]>;
  readonly #jobs = new Map<string, PendingJob>();
  readonly #eventListeners = new Set<(event: EslEvent) => void>();

  constructor(options: EslClientOptions) {
    assertPassword(options.password);
    assertEventNames(options.events);
    for (const [header, value] of options.filters ?? []) assertFilter(header, value);
    const resolved = resolveOptions(options);
    this.#log = resolved.logger;
    this.#filters = (options.filters ?? []).map(([h, v]) => [h, v] as const);
    this.#connection = new EslConnection(resolved, {
      filters: () => this.#filters,
      onEvent: (event) => this.#dispatchEvent(event),
      onLost: (error) => this.#rejectJobs(error),
    });
  }

  get status(): EslClientStatus {
    return this.#connection.status;
  }

  /** Bytes read from the switch so far, over every (re)connection: what subscriptions cost on the wire. */
  get bytesReceived(): number {
    return this.#connection.bytesReceived;
  }

  /** Filters currently applied (and re-applied after a reconnect). */
  get filters(): ReadonlyArray<readonly [string, string]> {
    return [...this.#filters];
  }

  onStatus(listener: (status: EslClientStatus, cause?: Error) => void): () => void {
    return this.#connection.onStatus(listener);
  }

  onEvent(listener: (event: EslEvent) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  start(): void {
    this.#connection.start();
  }

  ready(): Promise<void> {
    if (this.status === 'ready') return Promise.resolve();
    if (this.status === 'closed') return Promise.reject(new EslClosedError('client is closed'));
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
    return this.#connection.close();
  }

  async api(command: string, options: { timeoutMs?: number } = {}): Promise<string> {
    const reply = await this.#connection.request(renderApi(command), options.timeoutMs);
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
      accepted = this.#connection.request(wire, options.timeoutMs).then((reply) => {
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
    await this.#connection.checked(renderFilter(header, value));
    if (!this.#filters.some(([h, v]) => h === header && v === value)) this.#filters.push([header, value]);
  }

  async filterDelete(header: string, value?: string): Promise<void> {
    await this.#connection.checked(renderFilterDelete(header, value));
    this.#filters =
      header === 'all' && value === undefined
        ? []
        : this.#filters.filter(([h, v]) => !(h === header && (value === undefined || v === value)));
  }

  async sendmsg(uuid: string, message: SendmsgMessage): Promise<CommandReply> {
    return this.#commandReply(renderSendmsg(uuid, message));
  }

  async #commandReply(command: WireCommand, timeoutMs?: number): Promise<CommandReply> {
    const reply = await this.#connection.request(command, timeoutMs);
    if (reply.kind !== 'command/reply') throw new EslProtocolError('expected command/reply');
    return reply.reply;
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

  #rejectJobs(error: Error): void {
    const jobs = [...this.#jobs.values()];
    this.#jobs.clear();
    for (const job of jobs) job.reject(error);
  }
}
