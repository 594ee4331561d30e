/**
 * Layer 1 of the Event Socket client: bytes in, frames out. Never touches a socket.
 *
 * An ESL frame is a header block ("Name: value" lines) ended by an empty line, then exactly
 * Content-Length bytes of body when that header is present. Frames may be split at any byte and many
 * may share one chunk.
 *
 * Fail closed (STYLE habit 3): a header block over the cap, a Content-Length that is not a plain
 * decimal or exceeds the cap, a header line without a colon, or a frame without Content-Type is a
 * desync. The parser then throws EslProtocolError and refuses any further input; the owner must drop
 * the connection. Body memory is only ever taken from bytes that actually arrived: we collect the
 * chunks and join them once, when the last byte is there, never allocating Content-Length up front.
 *
 * Cost: leftover bytes of an unfinished header block are re-joined with the next chunk (bounded by
 * maxHeaderBytes) and scanning resumes where it stopped, so a split header is not re-scanned from its
 * start; an unfinished body is kept as a list of chunks, so a large body is copied once.
 */
import { EslProtocolError } from './errors.js';

export interface Frame {
  /** Envelope headers, e.g. Content-Type, Content-Length, Reply-Text. Values are raw (not URL-decoded). */
  readonly headers: ReadonlyMap<string, string>;
  readonly contentType: string;
  /** Exactly Content-Length bytes, or undefined when the frame had no Content-Length. */
  readonly body: Buffer | undefined;
}

export interface FrameParserOptions {
  /** Largest header block accepted, including its terminating blank line. Default 64 KiB. */
  maxHeaderBytes?: number;
  /** Largest Content-Length accepted. Default 8 MiB. */
  maxBodyBytes?: number;
}

export const DEFAULT_MAX_HEADER_BYTES = 64 * 1024;
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

const LF = 0x0a;
const EMPTY = Buffer.alloc(0);
const DECIMAL = /^[0-9]{1,10}$/;

export class FrameParser {
  readonly #maxHeaderBytes: number;
  readonly #maxBodyBytes: number;

  /** Unconsumed bytes while reading a header block: #buffer[#offset…]. */
  #buffer: Buffer = EMPTY;
  #offset = 0;
  /** Bytes of the current header block already searched for "\n\n" (relative to #offset). */
  #scanned = 0;

  /** Set while reading a body: the frame's headers and the body bytes received so far. */
  #pendingHeaders: Map<string, string> | undefined;
  #pendingContentType = '';
  #bodyLength = 0;
  #bodyChunks: Buffer[] = [];
  #bodyReceived = 0;

  #failure: EslProtocolError | undefined;

  constructor(options: FrameParserOptions = {}) {
    this.#maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.#maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /** True when bytes of an unfinished frame are held (a close now would cut a frame in half). */
  get isMidFrame(): boolean {
    return this.#pendingHeaders !== undefined || this.#offset < this.#buffer.length;
  }

  /**
   * Feeds bytes; calls onFrame for each complete frame, in order. Throws EslProtocolError on desync,
   * after delivering the frames that preceded the bad bytes; every later call throws the same error.
   */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    if (this.#failure) throw this.#failure;
    try {
      this.#consume(chunk, onFrame);
    } catch (error) {
      if (error instanceof EslProtocolError) {
        this.#failure = error;
        this.#release();
      }
      throw error;
    }
  }

  #consume(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    let input = chunk;
    if (this.#pendingHeaders) {
      input = this.#takeBody(input, onFrame);
      if (this.#pendingHeaders) return;
    }
    if (this.#offset < this.#buffer.length) {
      input =
        input.length === 0
          ? this.#buffer.subarray(this.#offset)
          : Buffer.concat([this.#buffer.subarray(this.#offset), input]);
    } else {
      this.#scanned = 0;
    }
    this.#buffer = input;
    this.#offset = 0;

    for (;;) {
      const buffer = this.#buffer;
      const start = this.#offset;
      const available = buffer.length - start;
      if (available === 0) {
        this.#buffer = EMPTY;
        this.#offset = 0;
        this.#scanned = 0;
        return;
      }
      const end = findBlankLine(buffer, start + Math.max(0, this.#scanned - 1));
      if (end === -1) {
        if (available > this.#maxHeaderBytes) {
          throw new EslProtocolError(`header block exceeds ${this.#maxHeaderBytes} bytes`);
        }
        this.#scanned = available;
        return;
      }
      // end = index of the second "\n"; the block is start..end inclusive.
      if (end + 1 - start > this.#maxHeaderBytes) {
        throw new EslProtocolError(`header block exceeds ${this.#maxHeaderBytes} bytes`);
      }
      const headers = parseEnvelope(buffer, start, end - 1);
      this.#scanned = 0;
      this.#offset = end + 1;
      const contentType = headers.get('Content-Type');
      if (contentType === undefined) {
        throw new EslProtocolError('frame without Content-Type');
      }
      const lengthText = headers.get('Content-Length');
      if (lengthText === undefined) {
        onFrame({ headers, contentType, body: undefined });
        continue;
      }
      const length = parseContentLength(lengthText, this.#maxBodyBytes);
      const rest = buffer.length - this.#offset;
      if (rest >= length) {
        const body = buffer.subarray(this.#offset, this.#offset + length);
        this.#offset += length;
        onFrame({ headers, contentType, body });
        continue;
      }
      // Body incomplete: keep what we have, wait for the rest.
      this.#pendingHeaders = headers;
      this.#pendingContentType = contentType;
      this.#bodyLength = length;
      this.#bodyChunks = rest > 0 ? [buffer.subarray(this.#offset)] : [];
      this.#bodyReceived = rest;
      this.#buffer = EMPTY;
      this.#offset = 0;
      return;
    }
  }

  /** Adds input to the pending body; emits the frame when complete and returns the unused input. */
  #takeBody(input: Buffer, onFrame: (frame: Frame) => void): Buffer {
    const missing = this.#bodyLength - this.#bodyReceived;
    if (input.length < missing) {
      if (input.length > 0) this.#bodyChunks.push(input);
      this.#bodyReceived += input.length;
      return EMPTY;
    }
    this.#bodyChunks.push(input.subarray(0, missing));
    const body =
      this.#bodyChunks.length === 1
        ? this.#bodyChunks[0]!
        : Buffer.concat(this.#bodyChunks, this.#bodyLength);
    const headers = this.#pendingHeaders!;
    const contentType = this.#pendingContentType;
    this.#pendingHeaders = undefined;
    this.#bodyChunks = [];
    this.#bodyReceived = 0;
    onFrame({ headers, contentType, body });
    return input.subarray(missing);
  }

  #release(): void {
    this.#buffer = EMPTY;
    this.#offset = 0;
    this.#pendingHeaders = undefined;
    this.#bodyChunks = [];
  }
}

/** Index of the second LF of the first "\n\n" at or after `from`, or -1. */
function findBlankLine(buffer: Buffer, from: number): number {
  let index = buffer.indexOf(LF, from);
  while (index !== -1 && index + 1 < buffer.length) {
    if (buffer[index + 1] === LF) return index + 1;
    index = buffer.indexOf(LF, index + 1);
  }
  return -1;
}

/** Parses "Name: value\n" lines in buffer[start, end) where buffer[end - 1] is the last line's LF. */
function parseEnvelope(buffer: Buffer, start: number, end: number): Map<string, string> {
  const text = buffer.toString('utf8', start, end);
  const headers = new Map<string, string>();
  let lineStart = 0;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    const colon = text.indexOf(':', lineStart);
    if (colon === -1 || colon >= lineEnd || colon === lineStart) {
      throw new EslProtocolError('malformed header line in frame envelope');
    }
    const name = text.slice(lineStart, colon);
    const valueStart = text.charCodeAt(colon + 1) === 0x20 ? colon + 2 : colon + 1;
    const value = text.slice(valueStart, lineEnd);
    if (!headers.has(name)) headers.set(name, value);
    lineStart = lineEnd + 1;
  }
  return headers;
}

function parseContentLength(text: string, max: number): number {
  if (!DECIMAL.test(text)) {
    throw new EslProtocolError(`invalid Content-Length ${JSON.stringify(text.slice(0, 32))}`);
  }
  const length = Number(text);
  if (length > max) {
    throw new EslProtocolError(`Content-Length ${length} exceeds the ${max}-byte cap`);
  }
  return length;
}
