import { describe, expect, it } from 'vitest';
import { EslProtocolError } from '../../src/esl/errors.js';
import {
  backgroundJobFacts,
  channelFacts,
  customSubclass,
  type EslEvent,
  hangupFacts,
  heartbeatFacts,
} from '../../src/esl/event.js';
import { FrameParser } from '../../src/esl/frame-parser.js';
import { decodeMessage, decodeXmlEvent, type EslMessage } from '../../src/esl/message.js';
import { urlDecode } from '../../src/esl/url-decode.js';
import { connections, fixtureNames, readTranscript, serverStream } from '../support/esl-fixtures.js';

function messages(fixture: string, connection = 'A'): EslMessage[] {
  const out: EslMessage[] = [];
  new FrameParser().push(serverStream(readTranscript(fixture), connection), (frame) =>
    out.push(decodeMessage(frame)),
  );
  return out;
}

function events(fixture: string, connection = 'A'): EslEvent[] {
  return messages(fixture, connection).flatMap((m) => (m.type === 'event' ? [m.event] : []));
}

function frame(text: string) {
  const frames: Parameters<typeof decodeMessage>[0][] = [];
  new FrameParser().push(Buffer.from(text), (f) => frames.push(f));
  return frames[0]!;
}

describe('decodeMessage on every fixture', () => {
  for (const name of fixtureNames()) {
    it(`${name} decodes without error and every event has a name`, () => {
      const records = readTranscript(name);
      for (const connection of connections(records)) {
        for (const message of messages(name, connection)) {
          if (message.type === 'event') expect(message.event.name).toMatch(/^[A-Z_]+$/);
        }
      }
    });
  }
});

describe('fixture values', () => {
  it('01: auth/request, +OK accepted, +OK bye, disconnect-notice', () => {
    const [auth, accepted, bye, notice] = messages('01-auth-ok.txt');
    expect(auth).toEqual({ type: 'auth/request' });
    expect(accepted?.type === 'command/reply' && accepted.reply.ok).toBe(true);
    expect(bye?.type === 'command/reply' && bye.reply.replyText).toBe('+OK bye');
    expect(notice?.type).toBe('disconnect-notice');
  });

  it('02: a wrong password is a command/reply that is not ok', () => {
    const reply = messages('02-auth-wrong-password.txt')[1];
    expect(reply?.type === 'command/reply' && reply.reply).toMatchObject({
      ok: false,
      replyText: '-ERR invalid',
    });
  });

  it('11: api/response keeps the leading newline of show calls count', () => {
    const api = messages('11-api-show-calls-count.txt').find((m) => m.type === 'api/response');
    expect(api?.type === 'api/response' && api.body).toBe('\n0 total.\n');
  });

  it('22: busy call — Unique-ID, Hangup-Cause, SIP code, job body', () => {
    const list = events('22-originate-busy-486-plain.txt');
    const complete = list.find((e) => e.name === 'CHANNEL_HANGUP_COMPLETE')!;
    expect(complete.uniqueId).toBe('c5769cf3-8f82-4391-b2e1-7b3f01b81f6e');
    expect(hangupFacts(complete)).toEqual({
      uniqueId: 'c5769cf3-8f82-4391-b2e1-7b3f01b81f6e',
      cause: 'USER_BUSY',
      sipCode: 486,
      answered: false,
      q850: 17,
    });
    // URL-decoded values; names are not encoded.
    expect(complete.variable('sip_destination_url')).toBe('sip:13800000001@127.0.0.1:5090');
    expect(complete.variable('proto_specific_hangup_cause')).toBe('sip:486');
    expect(complete.header('Event-Date-GMT')).toMatch(/^Sun, 22 Nov 2026 \d\d:\d\d:\d\d GMT$/);
    expect(complete.variable('my_worker_id')).toBe('w1');

    const job = list.find((e) => e.name === 'BACKGROUND_JOB')!;
    expect(job.jobUuid).toBe('d506af4f-7e39-40ca-9058-5000d885cc7b');
    expect(job.body).toBe('-ERR USER_BUSY\n');
    expect(backgroundJobFacts(job)).toMatchObject({
      ok: false,
      text: '-ERR USER_BUSY',
      command: 'originate',
    });
    expect(backgroundJobFacts(job)?.commandArg).toContain('{origination_uuid=c5769cf3');
  });

  it('20: answered call has answered=true and NORMAL_CLEARING with sip 200', () => {
    const complete = events('20-originate-answered-uas-bye-plain.txt').find(
      (e) => e.name === 'CHANNEL_HANGUP_COMPLETE',
    )!;
    expect(hangupFacts(complete)).toMatchObject({ cause: 'NORMAL_CLEARING', answered: true, sipCode: 200 });
    const answer = events('20-originate-answered-uas-bye-plain.txt').find(
      (e) => e.name === 'CHANNEL_ANSWER',
    )!;
    expect(channelFacts(answer)).toMatchObject({ name: 'CHANNEL_ANSWER', answerState: 'answered' });
  });

  it('16: BACKGROUND_JOB of a non-originate job has the multi-line status body', () => {
    const job = events('16-bgapi-status.txt').find((e) => e.name === 'BACKGROUND_JOB')!;
    expect(job.body).toMatch(/^UP 0 years/);
    expect(job.body).toContain('1000 session(s) max\n');
    expect(Buffer.byteLength(job.body!)).toBe(370);
  });

  it('29: our own Job-UUID comes back in the reply and the job event', () => {
    const list = messages('29-originate-busy-custom-job-uuid-plain.txt');
    const reply = list.find((m) => m.type === 'command/reply' && m.reply.replyText.includes('Job-UUID'));
    expect(reply?.type === 'command/reply' && reply.reply.headers.get('Job-UUID')).toBe(
      '65233951-48eb-4fef-aa8f-95ebe38af49b',
    );
    const job = events('29-originate-busy-custom-job-uuid-plain.txt').find(
      (e) => e.name === 'BACKGROUND_JOB',
    );
    expect(job?.jobUuid).toBe('65233951-48eb-4fef-aa8f-95ebe38af49b');
  });

  it('30-35: JSON events — values not encoded, _body is the body', () => {
    const expected: [string, string][] = [
      ['30-originate-answered-uas-bye-json.txt', '+OK 9e21c8d4-033b-483a-92c8-eaab5178c414\n'],
      ['31-originate-answered-uuid-kill-json.txt', '+OK c8725072-4498-4ea0-8f99-865ae589e08f\n'],
      ['32-originate-busy-486-json.txt', '-ERR USER_BUSY\n'],
      ['34-originate-404-json.txt', '-ERR UNALLOCATED_NUMBER\n'],
      ['35-originate-503-json.txt', '-ERR NORMAL_TEMPORARY_FAILURE\n'],
    ];
    for (const [fixture, body] of expected) {
      const job = events(fixture).find((e) => e.name === 'BACKGROUND_JOB')!;
      expect(job.body).toBe(body);
      expect(job.header('FreeSWITCH-IPv6')).toBe('fd00::2');
    }
    const busy = events('32-originate-busy-486-json.txt');
    expect(busy.find((e) => e.name === 'BACKGROUND_JOB')?.jobUuid).toBe(
      'c3cd6508-9944-42b6-912e-5e530c3733e8',
    );
    const complete = busy.find((e) => e.name === 'CHANNEL_HANGUP_COMPLETE')!;
    expect(hangupFacts(complete)).toMatchObject({ cause: 'USER_BUSY', sipCode: 486, answered: false });
  });

  it('50: HEARTBEAT numbers', () => {
    const beat = events('50-heartbeat-re-schedule-plain.txt').find((e) => e.name === 'HEARTBEAT')!;
    expect(heartbeatFacts(beat)).toMatchObject({
      sessionCount: 0,
      maxSessions: 1000,
      sessionsPerSecond: 30,
      idleCpuPercent: 98,
      eventInfo: 'System Ready',
    });
  });

  it('90: CUSTOM events carry their subclass (sent before Event-Name)', () => {
    const custom = events('90-fsctl-shutdown-disconnect-notice.txt').find((e) => e.name === 'CUSTOM')!;
    expect(customSubclass(custom)).toBe('sofia::gateway_delete');
  });

  it('44: disconnect-notice of a controlled session carries its headers', () => {
    const notice = messages('44-myevents-uuid-closed-on-hangup.txt').find(
      (m) => m.type === 'disconnect-notice',
    );
    expect(notice?.type === 'disconnect-notice' && notice.headers.get('Content-Disposition')).toBe(
      'disconnect',
    );
  });

  it('iterating headers yields decoded values, first occurrence of a repeated name wins', () => {
    const complete = events('22-originate-busy-486-plain.txt').find(
      (e) => e.name === 'CHANNEL_HANGUP_COMPLETE',
    )!;
    const all = new Map(complete.headers);
    expect(all.get('Hangup-Cause')).toBe('USER_BUSY');
    expect(all.get('variable_sip_req_uri')).toBe('13800000001@127.0.0.1:5090');
    expect(complete.headers.size).toBe(all.size);
  });
});

describe('decoding failures are protocol errors', () => {
  it('unknown Content-Type', () => {
    expect(() => decodeMessage(frame('Content-Type: text/surprise\n\n'))).toThrow(EslProtocolError);
  });
  it('plain event with a malformed line', () => {
    const body = 'Event-Name: X\ngarbage\n\n';
    const text = `Content-Length: ${body.length}\nContent-Type: text/event-plain\n\n${body}`;
    expect(() => decodeMessage(frame(text))).toThrow(EslProtocolError);
  });
  it('plain event whose inner Content-Length exceeds the body', () => {
    const body = 'Event-Name: BACKGROUND_JOB\nContent-Length: 50\n\n+OK\n';
    const text = `Content-Length: ${body.length}\nContent-Type: text/event-plain\n\n${body}`;
    expect(() => decodeMessage(frame(text))).toThrow(EslProtocolError);
  });
  it('JSON event that is not an object of strings', () => {
    for (const body of ['[1]', '{"Event-Name":1}', 'not json', '{}']) {
      const text = `Content-Length: ${body.length}\nContent-Type: text/event-json\n\n${body}`;
      expect(() => decodeMessage(frame(text))).toThrow(EslProtocolError);
    }
  });
});

describe('XML events', () => {
  it('reads headers (URL-encoded, XML-escaped) and body', () => {
    const xml =
      '<event>\n  <headers>\n    <Event-Name>BACKGROUND_JOB</Event-Name>\n    <Job-UUID>abc</Job-UUID>\n' +
      '    <Job-Command-Arg>a%20%26%20b</Job-Command-Arg>\n  </headers>\n  <Content-Length>9</Content-Length>\n' +
      '  <body>-ERR &lt;x&gt;\n</body>\n</event>';
    const event = decodeXmlEvent(xml);
    expect(event.name).toBe('BACKGROUND_JOB');
    expect(event.jobUuid).toBe('abc');
    expect(event.header('Job-Command-Arg')).toBe('a & b');
    expect(event.body).toBe('-ERR <x>\n');
  });

  it('reads an empty header element, character references and an event without a body', () => {
    const event = decodeXmlEvent(
      '<event><headers><Event-Name>CUSTOM</Event-Name><Empty/><Note>a&#xD;&#10;b&amp;c</Note></headers></event>\n',
    );
    expect(event.name).toBe('CUSTOM');
    expect(event.header('Empty')).toBe('');
    expect(event.header('Note')).toBe('a\r\nb&c');
    expect(event.body).toBeUndefined();
  });

  const head = '<event>\n  <headers>\n    <Event-Name>BACKGROUND_JOB</Event-Name>\n';
  it.each([
    ['not XML', 'Event-Name: HEARTBEAT\n\n', /expected <event>/],
    ['a plain root', '<headers><Event-Name>X</Event-Name></headers>', /expected <event>/],
    [
      'a mismatched close tag',
      `${head}    <Job-UUID>j</Job-Command>\n  </headers>\n</event>`,
      /<Job-UUID> is not closed/,
    ],
    ['an unclosed element', `${head}    <Job-UUID>j\n  </headers>\n</event>`, /<Job-UUID> is not closed/],
    ['text between elements', `${head}    stray\n  </headers>\n</event>`, /expected an element/],
    ['no </event>', `${head}  </headers>\n`, /ends before <\/event>/],
    ['bytes after </event>', `${head}  </headers>\n</event><event/>`, /bytes after <\/event>/],
    [
      'an unknown entity',
      `${head}    <Job-UUID>a&nbsp;b</Job-UUID>\n  </headers>\n</event>`,
      /unknown entity/,
    ],
    ['a bare ampersand', `${head}    <Job-UUID>a & b</Job-UUID>\n  </headers>\n</event>`, /unknown entity/],
    [
      'an out-of-range reference',
      `${head}    <Job-UUID>&#x110000;</Job-UUID>\n  </headers>\n</event>`,
      /out of range/,
    ],
    [
      'a body without Content-Length',
      `${head}  </headers>\n  <body>+OK</body>\n</event>`,
      /<Content-Length>/,
    ],
    [
      'a Content-Length that disagrees with the body',
      `${head}  </headers>\n  <Content-Length>2</Content-Length>\n  <body>+OK</body>\n</event>`,
      /Content-Length 2 but the body has 3 bytes/,
    ],
    [
      'a truncated body',
      `${head}  </headers>\n  <Content-Length>3</Content-Length>\n  <body>+O`,
      /<body> is not closed/,
    ],
    ['no Event-Name', '<event><headers><Job-UUID>j</Job-UUID></headers></event>', /no Event-Name/],
  ])('refuses %s with a connection-fatal EslProtocolError', (_label, xml, message) => {
    const xmlFrame = frame(
      `Content-Length: ${Buffer.byteLength(xml)}\nContent-Type: text/event-xml\n\n${xml}`,
    );
    let caught: unknown;
    try {
      decodeMessage(xmlFrame);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EslProtocolError);
    expect((caught as EslProtocolError).fatal).toBe(true);
    expect((caught as Error).message).toMatch(message);
  });
});

describe('urlDecode follows switch_url_decode', () => {
  it.each([
    ['plain', 'plain'],
    ['a%20b', 'a b'],
    ['a+b', 'a+b'],
    ['100%', '100%'],
    ['%E4%B8%AD', '中'],
    ['%ZZ%41', '%ZZA'],
  ])('%s -> %s', (input, output) => {
    expect(urlDecode(input)).toBe(output);
  });
});

describe('lazy plain headers', () => {
  it('answer the same before and after the header map is built', () => {
    const complete = events('22-originate-busy-486-plain.txt').find(
      (e) => e.name === 'CHANNEL_HANGUP_COMPLETE',
    )!;
    const names = [
      'Unique-ID',
      'Hangup-Cause',
      'variable_sip_req_uri',
      'Event-Name',
      'Caller-Callee-ID-Name',
    ];
    const before = names.map((n) => complete.header(n));
    for (let i = 0; i < 20; i++) complete.header('Nope'); // past the lookup threshold: the map is built
    expect(names.map((n) => complete.header(n))).toEqual(before);
    expect(before).toEqual([
      'c5769cf3-8f82-4391-b2e1-7b3f01b81f6e',
      'USER_BUSY',
      '13800000001@127.0.0.1:5090',
      'CHANNEL_HANGUP_COMPLETE',
      'Outbound Call',
    ]);
    expect(complete.headers.has('Nope')).toBe(false);
    expect(complete.header('Event-Name: X')).toBeUndefined();
  });
});
