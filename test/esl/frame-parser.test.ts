import { describe, expect, it } from 'vitest';
import { EslProtocolError } from '../../src/esl/errors.js';
import { type Frame, FrameParser } from '../../src/esl/frame-parser.js';
import { connections, fixtureNames, readTranscript, serverStream } from '../support/esl-fixtures.js';

interface PlainFrame {
  headers: [string, string][];
  body: string | undefined;
}

function plain(frame: Frame): PlainFrame {
  return { headers: [...frame.headers], body: frame.body?.toString('latin1') };
}

function parseChunks(chunks: Buffer[], options?: ConstructorParameters<typeof FrameParser>[0]): PlainFrame[] {
  const parser = new FrameParser(options);
  const frames: PlainFrame[] = [];
  for (const chunk of chunks) parser.push(chunk, (frame) => frames.push(plain(frame)));
  expect(parser.isMidFrame).toBe(false);
  return frames;
}

function byByte(stream: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
  return chunks;
}

/** Every recorded S->C stream, one per connection. */
const streams = fixtureNames().flatMap((name) => {
  const records = readTranscript(name);
  return connections(records)
    .map((connection) => ({
      label: `${name} ${connection}`,
      records,
      stream: serverStream(records, connection),
    }))
    .filter((entry) => entry.stream.length > 0);
});

describe('FrameParser on the recorded FreeSWITCH streams', () => {
  it('has fixtures to read', () => {
    expect(streams.length).toBeGreaterThan(30);
  });

  for (const { label, records, stream } of streams) {
    it(`${label}: whole, byte by byte and at split points give the same frames`, () => {
      const whole = parseChunks([stream]);
      // The recorder split S->C records at message boundaries: one frame per record.
      const connection = label.split(' ')[1];
      const recordCount = records.filter((r) => r.connection === connection && r.direction === 'S->C').length;
      expect(whole).toHaveLength(recordCount);
      expect(parseChunks(byByte(stream))).toEqual(whole);

      // Every split point for streams up to 8 KiB, an evenly spread sample of 300 for larger ones.
      const step = stream.length <= 8192 ? 1 : Math.ceil(stream.length / 300);
      for (let at = 1; at < stream.length; at += step) {
        expect(parseChunks([stream.subarray(0, at), stream.subarray(at)])).toEqual(whole);
      }
      // Three-way split with a tiny middle chunk, the classic cross-chunk "\n\n" case.
      for (let at = 1; at + 2 < stream.length; at += Math.max(1, step * 7)) {
        const chunks = [stream.subarray(0, at), stream.subarray(at, at + 1), stream.subarray(at + 1)];
        expect(parseChunks(chunks)).toEqual(whole);
      }
    });
  }

  it('reads fixture 01: auth/request, two replies, a disconnect-notice with its body', () => {
    const records = readTranscript('01-auth-ok.txt');
    const frames = parseChunks([serverStream(records, 'A')]);
    expect(frames.map((f) => f.headers.find(([n]) => n === 'Content-Type')?.[1])).toEqual([
      'auth/request',
      'command/reply',
      'command/reply',
      'text/disconnect-notice',
    ]);
    expect(frames[1]?.headers).toContainEqual(['Reply-Text', '+OK accepted']);
    expect(frames[3]?.body).toBe('Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n');
  });

  it('delivers many frames from one chunk', () => {
    const one = Buffer.from('Content-Type: command/reply\nReply-Text: +OK\n\n');
    expect(parseChunks([Buffer.concat([one, one, one])])).toHaveLength(3);
  });

  it('accepts an empty chunk at any time', () => {
    const frames = parseChunks([
      Buffer.alloc(0),
      Buffer.from('Content-Type: api/response\nContent-Length: 3\n\nab'),
      Buffer.alloc(0),
      Buffer.from('c'),
    ]);
    expect(frames).toEqual([
      {
        headers: [
          ['Content-Type', 'api/response'],
          ['Content-Length', '3'],
        ],
        body: 'abc',
      },
    ]);
  });
});

describe('FrameParser fails closed on a misbehaving peer', () => {
  function failure(input: Buffer[], options?: ConstructorParameters<typeof FrameParser>[0]) {
    const parser = new FrameParser(options);
    const frames: Frame[] = [];
    let error: unknown;
    for (const chunk of input) {
      try {
        parser.push(chunk, (frame) => frames.push(frame));
      } catch (caught) {
        error = caught;
        break;
      }
    }
    return { error, frames, parser };
  }

  const cases: [string, string][] = [
    ['garbage without a colon', 'hello world\n\n'],
    ['missing Content-Type', 'Reply-Text: +OK\n\n'],
    ['non-numeric Content-Length', 'Content-Type: api/response\nContent-Length: 12abc\n\n'],
    ['negative Content-Length', 'Content-Type: api/response\nContent-Length: -1\n\n'],
    ['absurd Content-Length', 'Content-Type: api/response\nContent-Length: 99999999999\n\n'],
    ['Content-Length over the cap', 'Content-Type: api/response\nContent-Length: 8388609\n\n'],
    ['empty header block', '\n\n'],
  ];
  for (const [label, text] of cases) {
    it(`${label} is a protocol error`, () => {
      const { error } = failure([Buffer.from(text)]);
      expect(error).toBeInstanceOf(EslProtocolError);
    });
  }

  it('a header block over the cap fails before the blank line arrives, without buffering more', () => {
    const { error } = failure([Buffer.from(`Content-Type: x\nX: ${'a'.repeat(2000)}`)], {
      maxHeaderBytes: 1024,
    });
    expect(error).toBeInstanceOf(EslProtocolError);
  });

  it('keeps frames that preceded the bad bytes, then refuses everything', () => {
    const good = 'Content-Type: command/reply\nReply-Text: +OK\n\n';
    const { error, frames, parser } = failure([Buffer.from(`${good}garbage\n\n`)]);
    expect(frames).toHaveLength(1);
    expect(error).toBeInstanceOf(EslProtocolError);
    expect(() => parser.push(Buffer.from(good), () => {})).toThrow(EslProtocolError);
  });

  it('does not allocate from Content-Length: a huge declared body holds only the bytes received', () => {
    const parser = new FrameParser({ maxBodyBytes: 8 * 1024 * 1024 });
    parser.push(Buffer.from('Content-Type: api/response\nContent-Length: 8000000\n\nabc'), () => {});
    expect(parser.isMidFrame).toBe(true);
    // Node would have to zero-fill 8 MB if we pre-allocated; nothing observable here except that
    // a close now is detected as mid-frame, which the client reports as a protocol error.
  });

  it('reports a truncated frame as mid-frame', () => {
    const parser = new FrameParser();
    parser.push(Buffer.from('Content-Type: api/resp'), () => {});
    expect(parser.isMidFrame).toBe(true);
  });
});
