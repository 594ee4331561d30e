import { randomUUID } from 'node:crypto';
import type { MessageBus, Subscription } from './cluster-contract.js';
import {
  CoordClosedError,
  CoordInvalidInputError,
  CoordRemoteError,
  CoordTimeoutError,
  requireId,
} from './coord-errors.js';

/**
 * The three kinds of streams the bus uses. Each kind has its own keys, cap and idle expiry, so a
 * request stream named like a message stream never mixes with it.
 */
export type StreamKind = 'bus' | 'request' | 'reply';

/** What the bus needs from a backend: capped append-only streams, and followers reading them in order. */
export interface StreamTransport {
  /**
   * Appends payloads to one stream, all at once and in order. The write is issued before this
   * returns, so it is ordered with this transport's other appends and follows.
   */
  append(kind: StreamKind, stream: string, payloads: readonly string[]): Promise<void>;
  /**
   * Reads, in batches, the entries appended after this call (its starting point is taken before
   * it returns, in order with `append`). `onBatch` is awaited before the next batch and must not
   * throw.
   */
  follow(kind: StreamKind, stream: string, onBatch: (payloads: string[]) => Promise<void>): Subscription;
}

/** Where background failures go (a pino `Logger` fits). */
export interface CoordLogger {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

interface RequestEnvelope {
  id: string;
  /** The requesting bus's id: its replies stream. */
  replyTo: string;
  body: unknown;
}

type ReplyEnvelope =
  | { id: string; ok: true; value: unknown }
  | { id: string; ok: false; error: { name: string; message: string } };

interface PendingRequest {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * The message bus over any `StreamTransport`: JSON on the wire, handler errors logged (never
 * redelivered), request/reply correlated by id over a replies stream owned by this bus.
 */
export class StreamBus implements MessageBus {
  /** Names this bus's replies stream. */
  private readonly busId = randomUUID();
  private readonly subscriptions = new Set<Subscription>();
  private readonly pending = new Map<string, PendingRequest>();
  private replies: Subscription | null = null;
  private isClosed = false;

  constructor(
    private readonly transport: StreamTransport,
    private readonly logger: CoordLogger,
  ) {}

  async publish(stream: string, messages: readonly unknown[]): Promise<void> {
    this.assertOpen();
    requireId('stream', stream);
    if (messages.length === 0) return;
    await this.transport.append('bus', stream, messages.map(encodeMessage));
  }

  subscribe(stream: string, handler: (messages: unknown[]) => void | Promise<void>): Subscription {
    this.assertOpen();
    requireId('stream', stream);
    return this.track(
      this.transport.follow('bus', stream, async (payloads) => {
        const messages = this.decodeAll(stream, payloads);
        if (messages.length === 0) return;
        try {
          await handler(messages);
        } catch (error) {
          this.logger.error(
            { err: error, stream, messages: messages.length },
            'coord bus: a subscriber failed on a batch; its messages are not redelivered',
          );
        }
      }),
    );
  }

  serve(stream: string, handler: (message: unknown) => Promise<unknown>): Subscription {
    this.assertOpen();
    requireId('stream', stream);
    return this.track(
      this.transport.follow('request', stream, async (payloads) => {
        const replies = new Map<string, string[]>();
        await Promise.all(
          this.decodeAll(stream, payloads).map(async (decoded) => {
            const request = asRequest(decoded);
            if (request === null) {
              this.logger.warn({ stream }, 'coord bus: dropped a request without id or replyTo');
              return;
            }
            const reply = encodeReply(await answer(request, handler));
            const list = replies.get(request.replyTo);
            if (list === undefined) replies.set(request.replyTo, [reply]);
            else list.push(reply);
          }),
        );
        await Promise.all(
          [...replies].map(([replyTo, list]) =>
            this.transport.append('reply', replyTo, list).catch((error: unknown) => {
              this.logger.warn({ err: error, stream, replies: list.length }, 'coord bus: replies not sent');
            }),
          ),
        );
      }),
    );
  }

  request(stream: string, message: unknown, timeoutMs: number): Promise<unknown> {
    let id: string;
    let payload: string;
    try {
      this.assertOpen();
      requireId('stream', stream);
      id = randomUUID();
      payload = encodeMessage({ id, replyTo: this.busId, body: message } satisfies RequestEnvelope);
    } catch (error) {
      return Promise.reject(error);
    }
    // The replies stream is followed before the first request goes out, so no reply precedes it.
    this.replies ??= this.transport.follow('reply', this.busId, async (payloads) => {
      for (const decoded of this.decodeAll('reply', payloads)) this.settle(decoded);
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CoordTimeoutError(`no reply on ${stream} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.transport.append('request', stream, [payload]).catch((error: unknown) => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const [id, request] of this.pending) {
      clearTimeout(request.timer);
      request.reject(new CoordClosedError(`the bus closed before request ${id} got its reply`));
    }
    this.pending.clear();
    const all = [...this.subscriptions];
    if (this.replies !== null) all.push(this.replies);
    this.subscriptions.clear();
    await Promise.all(all.map((subscription) => subscription.close()));
  }

  private settle(decoded: unknown): void {
    const reply = asReply(decoded);
    if (reply === null) {
      this.logger.warn({}, 'coord bus: dropped a malformed reply');
      return;
    }
    const request = this.pending.get(reply.id);
    // A reply to a request that timed out, or a second server's answer: nobody waits for it.
    if (request === undefined) return;
    this.pending.delete(reply.id);
    clearTimeout(request.timer);
    if (reply.ok) request.resolve(reply.value);
    else request.reject(new CoordRemoteError(reply.error.name, reply.error.message));
  }

  private track(subscription: Subscription): Subscription {
    this.subscriptions.add(subscription);
    return {
      close: async () => {
        this.subscriptions.delete(subscription);
        await subscription.close();
      },
    };
  }

  private decodeAll(stream: string, payloads: readonly string[]): unknown[] {
    const messages: unknown[] = [];
    for (const payload of payloads) {
      try {
        messages.push(JSON.parse(payload));
      } catch (error) {
        this.logger.warn({ err: error, stream }, 'coord bus: dropped an entry that is not JSON');
      }
    }
    return messages;
  }

  private assertOpen(): void {
    if (this.isClosed) throw new CoordClosedError('the bus is closed');
  }
}

function encodeMessage(message: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(message);
  } catch (error) {
    throw new CoordInvalidInputError('a message must be JSON-serialisable', { cause: error });
  }
  if (text === undefined) throw new CoordInvalidInputError('a message must be JSON-serialisable');
  return text;
}

async function answer(
  request: RequestEnvelope,
  handler: (message: unknown) => Promise<unknown>,
): Promise<ReplyEnvelope> {
  try {
    return { id: request.id, ok: true, value: await handler(request.body) };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    return { id: request.id, ok: false, error: { name, message } };
  }
}

function encodeReply(reply: ReplyEnvelope): string {
  try {
    return encodeMessage(reply);
  } catch {
    return encodeMessage({
      id: reply.id,
      ok: false,
      error: { name: 'CoordInvalidInputError', message: 'the reply is not JSON-serialisable' },
    });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function asRequest(value: unknown): RequestEnvelope | null {
  if (!isRecord(value) || typeof value.id !== 'string' || typeof value.replyTo !== 'string') return null;
  return { id: value.id, replyTo: value.replyTo, body: value.body };
}

function asReply(value: unknown): ReplyEnvelope | null {
  if (!isRecord(value) || typeof value.id !== 'string') return null;
  if (value.ok === true) return { id: value.id, ok: true, value: value.value };
  const error = value.error;
  if (value.ok !== false || !isRecord(error)) return null;
  return { id: value.id, ok: false, error: { name: String(error.name), message: String(error.message) } };
}
