import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CALL_RECORD_LIMITS,
  type CallRecord,
  CallRecordError,
  callRecordVerdict,
  parseCallRecordDocument,
  parseCallRecordPost,
} from '../../src/domain/call-record.js';
import { FIXTURE_DIR } from '../support/esl-fixtures.js';

/**
 * Call records as FreeSWITCH 1.10's mod_json_cdr posts them. The documents are built the way
 * switch_ivr_generate_json_cdr builds them, from the channel variables of the recorded real
 * CHANNEL_HANGUP_COMPLETE events (fixtures 30: answered, then BYE from the far end; 32: 486 Busy),
 * plus the tags our worker sets in the originate.
 */
type Headers = Record<string, string>;

function hangupEvent(fixture: string): Headers {
  const text = readFileSync(join(FIXTURE_DIR, fixture), 'utf8');
  const line = /\{"Event-Name":"CHANNEL_HANGUP_COMPLETE".*\}/.exec(text);
  if (!line) throw new Error(`${fixture}: no CHANNEL_HANGUP_COMPLETE`);
  return JSON.parse(line[0]) as Headers;
}

const ANSWERED = hangupEvent('30-originate-answered-uas-bye-json.txt');
const BUSY = hangupEvent('32-originate-busy-486-json.txt');
const DIALED = '13800000001';

/** switch_url_encode (no double encoding): unsafe and non-printable bytes → %XX, existing %XX kept. */
function fsUrlEncode(value: string): string {
  const unsafe = '\r\n #%&+:;<=>?@[\\]^`{|}"';
  const bytes = Buffer.from(value, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const keep = b === 0x25 && /^[0-9A-F]{2}$/.test(bytes.subarray(i + 1, i + 3).toString('latin1'));
    if (!keep && (b < 0x20 || b > 0x7e || unsafe.includes(String.fromCharCode(b)))) {
      out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    } else out += String.fromCharCode(b);
  }
  return out;
}

interface DocumentOptions {
  encodeValues?: boolean;
  /** Our worker's tags; false: a call the platform did not place. */
  tags?: { worker: string; attempt: string } | false;
  variables?: Record<string, string | undefined>;
}

/** The JSON text mod_json_cdr would build for the channel of `event`. */
function cdrDocument(event: Headers, options: DocumentOptions = {}): string {
  const uuid = event['Unique-ID']!;
  const raw: Record<string, string> = {};
  for (const [name, value] of Object.entries(event)) {
    if (name.startsWith('variable_') && value !== '') raw[name.slice(9)] = value;
  }
  const tags = options.tags ?? { worker: 'main', attempt: uuid };
  if (tags) Object.assign(raw, { sb_worker: tags.worker, sb_attempt: tags.attempt, sb_task: 'task-1' });
  for (const [name, value] of Object.entries(options.variables ?? {})) {
    if (value === undefined) delete raw[name];
    else raw[name] = value;
  }
  const encode = options.encodeValues ?? true;
  const variables = Object.fromEntries(Object.entries(raw).map(([n, v]) => [n, encode ? fsUrlEncode(v) : v]));
  return JSON.stringify({
    'core-uuid': event['Core-UUID'],
    switchname: event['FreeSWITCH-Switchname'],
    channel_data: {
      state: 'CS_REPORTING',
      direction: 'outbound',
      state_number: '11',
      flags: '0=1;1=1',
      caps: '1=1',
    },
    variables,
    app_log: { applications: [{ app_name: 'park', app_data: '' }] },
    callflow: [
      {
        dialplan: 'XML',
        profile_index: '1',
        caller_profile: {
          username: '',
          dialplan: 'XML',
          caller_id_name: event['Caller-Caller-ID-Name'],
          ani: event['Caller-ANI'],
          caller_id_number: event['Caller-Caller-ID-Number'],
          destination_number: event['Caller-Destination-Number'],
          uuid,
          chan_name: event['Caller-Channel-Name'],
        },
        times: {
          created_time: event['Caller-Channel-Created-Time'],
          hangup_time: event['Caller-Channel-Hangup-Time'],
        },
      },
    ],
  });
}

/** The body and Content-Type mod_json_cdr sends for `encode` = false | true | base64. */
function post(document: string, encode: 'json' | 'form' | 'base64'): { contentType: string; body: string } {
  if (encode === 'json') return { contentType: 'application/json', body: document };
  if (encode === 'form')
    return { contentType: 'application/x-www-form-urlencoded', body: `cdr=${fsUrlEncode(document)}` };
  return {
    contentType: 'application/x-www-form-base64-encoded',
    body: `cdr=${Buffer.from(document, 'utf8').toString('base64')}`,
  };
}

function refusal(run: () => unknown): CallRecordError {
  try {
    run();
  } catch (error) {
    if (error instanceof CallRecordError) return error;
    throw error;
  }
  throw new Error('expected a CallRecordError');
}

const ANSWERED_RECORD: CallRecord = {
  callUuid: '9e21c8d4-033b-483a-92c8-eaab5178c414',
  attemptId: '9e21c8d4-033b-483a-92c8-eaab5178c414',
  workerTag: 'main',
  switchName: 'vm',
  coreUuid: '182f5938-5c46-4190-bbc6-c6dd4321157f',
  hangupCause: 'NORMAL_CLEARING',
  q850: 16,
  sipCode: 200,
  startedAtMs: 1_795_361_231_467,
  answeredAtMs: 1_795_361_232_487,
  endedAtMs: 1_795_361_235_507,
  billsecMs: 3_020,
  durationMs: 4_040,
};

describe('call records as mod_json_cdr posts them', () => {
  it('reads an answered call (encode=false, encode-values on: the defaults)', () => {
    const record = parseCallRecordPost({
      ...post(cdrDocument(ANSWERED), 'json'),
      queryUuid: ANSWERED['Unique-ID'],
    });
    expect(record).toEqual(ANSWERED_RECORD);
    expect(callRecordVerdict(record)).toEqual({ outcome: 'answered', mayHaveReachedCallee: true });
  });

  it('reads a busy call: 486, never answered, nothing billed', () => {
    const record = parseCallRecordPost(post(cdrDocument(BUSY), 'json'));
    expect(record).toMatchObject({
      callUuid: 'a405c991-34fc-4065-8270-8972483b6ef3',
      hangupCause: 'USER_BUSY',
      q850: 17,
      sipCode: 486,
      answeredAtMs: null,
      endedAtMs: 1_795_361_240_967,
      billsecMs: 0,
    });
    expect(callRecordVerdict(record)).toEqual({ outcome: 'busy', mayHaveReachedCallee: true });
    // What the worker knew (answered) outweighs a record that says otherwise.
    expect(callRecordVerdict(record, true).outcome).toBe('answered');
  });

  it.each([
    ['json', true],
    ['json', false],
    ['base64', true],
    ['base64', false],
    ['form', false],
  ] as const)('reads every body FreeSWITCH sends: encode=%s, encode-values=%s', (encode, encodeValues) => {
    const document = cdrDocument(ANSWERED, { encodeValues });
    expect(parseCallRecordPost({ ...post(document, encode), queryUuid: ANSWERED['Unique-ID'] })).toEqual(
      ANSWERED_RECORD,
    );
  });

  it('explains the one combination FreeSWITCH cannot encode: encode=true with encode-values on', () => {
    // switch_url_encode keeps the values' own %XX, so the form decoding yields raw quotes and CR/LF.
    const error = refusal(() => parseCallRecordPost(post(cdrDocument(ANSWERED), 'form')));
    expect(error.code).toBe('malformed_body');
    expect(error.message).toMatch(/encode-values/);
  });

  it('accepts a form body from another client (spaces as +) and Content-Type parameters', () => {
    const document = cdrDocument(BUSY, { encodeValues: false, variables: { sb_worker: 'main' } });
    const body = `x=1&cdr=${encodeURIComponent(document).replaceAll('%20', '+')}`;
    const record = parseCallRecordPost({
      contentType: 'Application/X-WWW-Form-URLEncoded; charset=UTF-8',
      body,
    });
    expect(record.hangupCause).toBe('USER_BUSY');
    const json = parseCallRecordPost({ contentType: 'application/json; charset=utf-8', body: document });
    expect(json).toEqual(record);
  });

  it('falls back on the epoch seconds and on proto_specific_hangup_cause when the finer fields are absent', () => {
    const document = cdrDocument(ANSWERED, {
      variables: {
        start_uepoch: undefined,
        answer_uepoch: undefined,
        end_uepoch: undefined,
        billmsec: undefined,
        mduration: undefined,
        sip_term_status: undefined,
      },
    });
    expect(parseCallRecordDocument(document)).toMatchObject({
      startedAtMs: 1_795_361_231_000,
      answeredAtMs: 1_795_361_232_000,
      endedAtMs: 1_795_361_235_000,
      billsecMs: 3_000,
      durationMs: 4_000,
      sipCode: 200,
    });
  });

  it('marks a call the platform did not place (no sb_attempt) and keeps no number from any call', () => {
    const theirs = parseCallRecordDocument(cdrDocument(BUSY, { tags: false }));
    expect(theirs.attemptId).toBeNull();
    expect(theirs.workerTag).toBeNull();
    for (const record of [theirs, parseCallRecordDocument(cdrDocument(ANSWERED))]) {
      const text = JSON.stringify(record);
      expect(text).not.toContain(DIALED);
      expect(text).not.toContain('1001');
    }
  });

  it('checks the URL uuid against the document, case aside', () => {
    const body = post(cdrDocument(BUSY), 'json');
    expect(parseCallRecordPost({ ...body, queryUuid: BUSY['Unique-ID']!.toUpperCase() }).callUuid).toBe(
      BUSY['Unique-ID'],
    );
    expect(refusal(() => parseCallRecordPost({ ...body, queryUuid: ANSWERED['Unique-ID'] })).code).toBe(
      'uuid_mismatch',
    );
  });
});

describe('hostile and broken call records', () => {
  const busy = (variables: Record<string, string | undefined>) => cdrDocument(BUSY, { variables });
  const cases: Array<[string, () => unknown, string]> = [
    [
      'an unknown Content-Type',
      () => parseCallRecordPost({ contentType: 'text/plain', body: '{}' }),
      'unsupported_encoding',
    ],
    [
      'no Content-Type',
      () => parseCallRecordPost({ contentType: undefined, body: '{}' }),
      'unsupported_encoding',
    ],
    [
      'a body over the limit',
      () =>
        parseCallRecordPost({
          contentType: 'application/json',
          body: ' '.repeat(CALL_RECORD_LIMITS.maxBodyBytes + 1),
        }),
      'too_large',
    ],
    ['not JSON', () => parseCallRecordDocument('{"variables":'), 'malformed_body'],
    ['a JSON array', () => parseCallRecordDocument('[]'), 'malformed_body'],
    ['no variables', () => parseCallRecordDocument('{"switchname":"vm"}'), 'missing_field'],
    ['variables not an object', () => parseCallRecordDocument('{"variables":["uuid"]}'), 'missing_field'],
    [
      'too many variables',
      () =>
        parseCallRecordDocument(
          JSON.stringify({
            variables: Object.fromEntries(
              Array.from({ length: CALL_RECORD_LIMITS.maxVariables + 1 }, (_, i) => [`v${i}`, 'x']),
            ),
          }),
        ),
      'too_large',
    ],
    [
      'a form body without cdr=',
      () => parseCallRecordPost({ contentType: 'application/x-www-form-urlencoded', body: 'record=%7B%7D' }),
      'missing_field',
    ],
    [
      'base64 that is not',
      () =>
        parseCallRecordPost({
          contentType: 'application/x-www-form-base64-encoded',
          body: 'cdr=%7B%22a%22%7D',
        }),
      'malformed_body',
    ],
    ['no uuid', () => parseCallRecordDocument(busy({ uuid: undefined })), 'missing_field'],
    [
      'a uuid that is not one',
      () => parseCallRecordDocument(busy({ uuid: 'a405c991; uuid_kill all' })),
      'invalid_field',
    ],
    [
      'sb_attempt naming another call',
      () => parseCallRecordDocument(busy({ sb_attempt: ANSWERED['Unique-ID'] })),
      'invalid_field',
    ],
    [
      'a worker tag with a newline',
      () => parseCallRecordDocument(busy({ sb_worker: 'main\nevil' })),
      'invalid_field',
    ],
    ['no hang-up cause', () => parseCallRecordDocument(busy({ hangup_cause: undefined })), 'missing_field'],
    [
      'a cause that is not a cause name',
      () => parseCallRecordDocument(busy({ hangup_cause: 'user_busy" OR 1=1' })),
      'invalid_field',
    ],
    [
      'no end time',
      () => parseCallRecordDocument(busy({ end_uepoch: undefined, end_epoch: undefined })),
      'missing_field',
    ],
    [
      'an end time in the wrong unit',
      () => parseCallRecordDocument(busy({ end_uepoch: '1795361240' })),
      'invalid_field',
    ],
    [
      'an end time that is not a number',
      () => parseCallRecordDocument(busy({ end_uepoch: '1e300' })),
      'invalid_field',
    ],
    [
      'a duration of years',
      () => parseCallRecordDocument(busy({ billmsec: '99999999999999' })),
      'invalid_field',
    ],
    [
      'a field far longer than any real one',
      () => parseCallRecordDocument(busy({ hangup_cause: 'A'.repeat(10_000) })),
      'invalid_field',
    ],
    [
      'a non-string variable',
      () =>
        parseCallRecordDocument(
          JSON.stringify({
            ...JSON.parse(busy({})),
            variables: { ...JSON.parse(busy({})).variables, hangup_cause: 17 },
          }),
        ),
      'invalid_field',
    ],
    [
      'no switchname',
      () => parseCallRecordDocument(JSON.stringify({ ...JSON.parse(busy({})), switchname: undefined })),
      'missing_field',
    ],
  ];

  it.each(cases)('refuses %s', (_what, run, code) => {
    expect(refusal(run).code).toBe(code);
  });

  it('refuses a document where a field it reads appears twice (a value that smuggled in a key)', () => {
    // What a far end's reason phrase could become once a %XX-encoded document is decoded twice.
    const document = busy({}).replace(
      '"hangup_cause":"USER_BUSY"',
      '"sip_invite_failure_phrase":"Busy","hangup_cause":"NORMAL_CLEARING","hangup_cause":"USER_BUSY"',
    );
    expect(refusal(() => parseCallRecordDocument(document)).code).toBe('ambiguous_document');
  });

  it('decodes %XX in the fields it reads (encode-values), and only there', () => {
    const record = parseCallRecordDocument(
      busy({ hangup_cause: 'USER%5FBUSY', sip_term_status: '%34%38%36' }),
    );
    expect(record).toMatchObject({ hangupCause: 'USER_BUSY', sipCode: 486 });
  });

  it('never names a value in its errors, so no number reaches a log line', () => {
    const errors = [
      refusal(() => parseCallRecordDocument(busy({ uuid: DIALED }))),
      refusal(() => parseCallRecordDocument(busy({ hangup_cause: `${DIALED}` }))),
      refusal(() => parseCallRecordDocument(busy({ sb_worker: `+${DIALED}!` }))),
      refusal(() => parseCallRecordDocument(busy({ end_uepoch: DIALED }))),
    ];
    for (const error of errors) expect(error.message).not.toContain(DIALED);
  });

  it('throws nothing but CallRecordError, whatever the body', () => {
    const encodings = fc.constantFrom(
      'application/json',
      'application/x-www-form-urlencoded',
      'application/x-www-form-base64-encoded',
    );
    const bodies = fc.oneof(
      fc.string(),
      fc.json(),
      fc.string().map((s) => `cdr=${s}`),
      fc.json().map((j) => `cdr=${Buffer.from(j).toString('base64')}`),
      fc
        .dictionary(
          fc.constantFrom('uuid', 'hangup_cause', 'end_uepoch', 'sb_attempt', 'answer_epoch'),
          fc.jsonValue(),
        )
        .map((variables) => JSON.stringify({ switchname: 'vm', variables })),
    );
    fc.assert(
      fc.property(encodings, bodies, (contentType, body) => {
        try {
          parseCallRecordPost({ contentType, body });
        } catch (error) {
          if (!(error instanceof CallRecordError)) throw error;
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
