/**
 * A deliberately tiny ESL client for the simulator's tests: raw node:net, its own
 * Content-Length-aware frame reader, and waits on conditions (never sleeps).
 */
import { connect, type Socket } from 'node:net';

export interface Frame {
  headers: [string, string][];
  body: string;
  /** For text/event-plain: the event's own headers (URL-decoded) and inner body. */
  event?: { headers: [string, string][]; body: string };
  raw: string;
}

export function header(frame: { headers: [string, string][] }, name: string): string | undefined {
  return frame.headers.find(([n]) => n === name)?.[1];
}

export function parseHeaderBlock(text: string): [string, string][] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((line): [string, string] => {
      const at = line.indexOf(': ');
      return [line.slice(0, at), line.slice(at + 2)];
    });
}

/** Splits an S->C byte stream into frames. */
export function parseFrames(stream: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let offset = 0;
  for (;;) {
    const end = stream.indexOf('\n\n', offset);
    if (end === -1) break;
    const headers = parseHeaderBlock(stream.subarray(offset, end).toString('utf8'));
    const length = Number(header({ headers }, 'Content-Length') ?? 0);
    if (stream.length < end + 2 + length) break;
    const body = stream.subarray(end + 2, end + 2 + length).toString('utf8');
    const raw = stream.subarray(offset, end + 2 + length).toString('utf8');
    offset = end + 2 + length;
    const frame: Frame = { headers, body, raw };
    if (header(frame, 'Content-Type') === 'text/event-plain') {
      const blockEnd = body.indexOf('\n\n');
      frame.event = {
        headers: parseHeaderBlock(body.slice(0, blockEnd)).map(([n, v]) => [n, decodeURIComponent(v)]),
        body: body.slice(blockEnd + 2),
      };
    }
    frames.push(frame);
  }
  return { frames, rest: stream.subarray(offset) };
}

export class WireClient {
  readonly frames: Frame[] = [];
  closed = false;
  private buffer: Buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      const { frames, rest } = parseFrames(Buffer.concat([this.buffer, chunk]));
      this.buffer = rest;
      this.frames.push(...frames);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {
      this.closed = true;
      this.wake();
    });
  }

  static async open(port: number, host = '127.0.0.1'): Promise<WireClient> {
    const socket = connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new WireClient(socket);
    await client.waitFor(() => client.frames.length >= 1);
    return client;
  }

  static async authed(port: number): Promise<WireClient> {
    const client = await WireClient.open(port);
    await client.command('auth ClueCon');
    return client;
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  async waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline)
        throw new Error(`timed out; ${this.frames.length} frames, closed=${this.closed}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Sends a command and resolves with the next reply frame (command/reply or api/response). */
  async command(text: string): Promise<Frame> {
    const isReply = (f: Frame) => {
      const type = header(f, 'Content-Type');
      return type === 'command/reply' || type === 'api/response';
    };
    const before = this.frames.filter(isReply).length;
    this.send(`${text}\n\n`);
    await this.waitFor(() => this.frames.filter(isReply).length > before);
    return this.frames.filter(isReply)[before]!;
  }

  events(name?: string): Frame[] {
    return this.frames.filter(
      (f) => f.event && (name === undefined || header(f.event, 'Event-Name') === name),
    );
  }

  close(): void {
    this.socket.destroy();
  }
}
