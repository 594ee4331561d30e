/**
 * Parse throughput of our ESL client layers (FrameParser → decodeMessage → the headers a worker
 * reads) and of the npm package `modesl` on the same bytes, in the same process, one core.
 *
 * The stream repeats the recorded FreeSWITCH → client bytes of the call fixtures, so the mix of
 * frames is real: auth/request, command/reply, api/response and mostly text/event-plain channel
 * events of ~130 headers. It is fed in 64 KiB chunks, the size a TCP read hands Node.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { FrameParser } from '../src/esl/frame-parser.js';
import { decodeMessage } from '../src/esl/message.js';
import { connections, readTranscript, serverStream } from '../test/support/esl-fixtures.js';

export const CHUNK_BYTES = 64 * 1024;
export const PLAIN_CALL_FIXTURES = [
  '20-originate-answered-uas-bye-plain.txt',
  '21-originate-answered-uuid-kill-plain.txt',
  '22-originate-busy-486-plain.txt',
  '23-originate-no-answer-timeout-plain.txt',
  '25-originate-404-plain.txt',
  '26-originate-503-plain.txt',
  '28-originate-408-plain.txt',
  '36-originate-answered-event-plain-ALL.txt',
  '40-filter-worker-id-plain.txt',
  '41-filter-worker-id-plus-background-job-plain.txt',
];
export const JSON_CALL_FIXTURES = [
  '30-originate-answered-uas-bye-json.txt',
  '31-originate-answered-uuid-kill-json.txt',
  '32-originate-busy-486-json.txt',
  '34-originate-404-json.txt',
  '35-originate-503-json.txt',
];

/** The variable a worker tags its calls with; the recordings were made with `my_worker_id`. */
const WORKER_VARIABLE = 'my_worker_id';

/** Every S->C stream of the fixtures, concatenated, repeated until at least `targetBytes`. */
export function buildStream(fixtures: readonly string[], targetBytes: number): Buffer {
  const once = Buffer.concat(
    fixtures.flatMap((name) => {
      const records = readTranscript(name);
      return connections(records).map((conn) => serverStream(records, conn));
    }),
  );
  const copies = Math.max(1, Math.ceil(targetBytes / once.length));
  return Buffer.concat(Array.from({ length: copies }, () => once));
}

export function chunksOf(stream: Buffer, size = CHUNK_BYTES): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < stream.length; at += size) chunks.push(stream.subarray(at, at + size));
  return chunks;
}

export interface ParseRun {
  events: number;
  /** Non-empty header values read (Unique-ID, Hangup-Cause, the worker variable, Job-UUID). */
  headersRead: number;
  /** Wall-clock time. */
  ms: number;
  /**
   * CPU time the process spent (user + system, all threads, so GC included). On a shared machine
   * this is what one dedicated core would need; wall time also counts time others took the core.
   */
  cpuMs: number;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** Our client's layers 1 and 2, reading what a worker reads from each event. */
export function parseWithOurs(chunks: readonly Buffer[]): ParseRun {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const parser = new FrameParser();
  let events = 0;
  let headersRead = 0;
  const onFrame = (frame: Parameters<Parameters<FrameParser['push']>[1]>[0]) => {
    const message = decodeMessage(frame);
    if (message.type !== 'event') return;
    events++;
    const event = message.event;
    if (event.uniqueId) headersRead++;
    if (event.header('Hangup-Cause')) headersRead++;
    if (event.variable(WORKER_VARIABLE)) headersRead++;
    if (event.jobUuid) headersRead++;
  };
  for (const chunk of chunks) parser.push(chunk, onFrame);
  return { events, headersRead, ms: performance.now() - started, cpuMs: cpuMsSince(cpu) };
}

/** What we use of modesl's Event (lib/esl/Event.js). */
interface ModeslEvent {
  getHeader(name: string): string | null;
}
type ModeslParserClass = new (socket: EventEmitter) => EventEmitter;

const require = createRequire(import.meta.url);

/**
 * modesl's own parser (lib/esl/Parser.js), driven as its Connection drives it: it listens for
 * 'data' on the socket it is given and emits 'esl::event' (event, envelope headers, body) for every
 * frame; events are the frames whose envelope Content-Type is text/event-*.
 */
export function parseWithModesl(chunks: readonly Buffer[]): ParseRun {
  const Parser = require('modesl/lib/esl/Parser.js') as ModeslParserClass;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const socket = new EventEmitter();
  const parser = new Parser(socket);
  let events = 0;
  let headersRead = 0;
  parser.on('esl::event', (event: ModeslEvent, envelope: Record<string, unknown>) => {
    const contentType = envelope['Content-Type'];
    if (typeof contentType !== 'string' || !contentType.startsWith('text/event-')) return;
    events++;
    if (event.getHeader('Unique-ID')) headersRead++;
    if (event.getHeader('Hangup-Cause')) headersRead++;
    if (event.getHeader(`variable_${WORKER_VARIABLE}`)) headersRead++;
    if (event.getHeader('Job-UUID')) headersRead++;
  });
  for (const chunk of chunks) socket.emit('data', chunk);
  return { events, headersRead, ms: performance.now() - started, cpuMs: cpuMsSince(cpu) };
}

/** Alternates the two parsers `rounds` times after a warm-up and keeps each one's median run. */
export function compare(chunks: readonly Buffer[], rounds: number): { ours: ParseRun; modesl: ParseRun } {
  parseWithOurs(chunks.slice(0, 64));
  parseWithModesl(chunks.slice(0, 64));
  const ours: ParseRun[] = [];
  const modesl: ParseRun[] = [];
  for (let i = 0; i < rounds; i++) {
    ours.push(parseWithOurs(chunks));
    modesl.push(parseWithModesl(chunks));
  }
  return { ours: median(ours), modesl: median(modesl) };
}

function median(runs: ParseRun[]): ParseRun {
  const sorted = [...runs].sort((a, b) => a.cpuMs - b.cpuMs);
  return sorted[Math.floor(sorted.length / 2)]!;
}
