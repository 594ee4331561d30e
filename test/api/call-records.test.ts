import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateServiceToken } from '../../src/security/service-tokens.js';
import type { CallRecordRepository } from '../../src/store/call-record-contract.js';
import { SqliteCallRecords } from '../../src/store/sqlite/call-records.js';
import { openSqlite, type SqliteDatabase } from '../../src/store/sqlite/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { ACME_KEY, type Harness, makeHarness } from './harness.js';

/**
 * POST /internal/v1/cdr as FreeSWITCH's mod_json_cdr calls it: service token as Bearer or as the
 * Basic password (`cred`), the three `encode` forms, 2xx only once stored, problems otherwise.
 */
const dir = makeTempDir();
afterAll(() => dir.remove());

const UUID = '0191f0a4-9a6b-7c3e-8d2f-4b5a6c7d8e9f';
const DIALED = '8613800000001';

function cdr(variables: Record<string, string> = {}): string {
  return JSON.stringify({
    'core-uuid': '182f5938-5c46-4190-bbc6-c6dd4321157f',
    switchname: 'fs-1',
    channel_data: { state: 'CS_REPORTING', direction: 'outbound', state_number: '11' },
    variables: {
      uuid: UUID,
      sb_worker: 'main',
      sb_attempt: UUID,
      destination_number: DIALED,
      sip_to_user: DIALED,
      caller_id: `%22Outbound%20Call%22%20%3C${DIALED}%3E`,
      hangup_cause: 'USER_BUSY',
      hangup_cause_q850: '17',
      sip_term_status: '486',
      start_uepoch: '1795361240967535',
      answer_uepoch: '0',
      end_uepoch: '1795361242967535',
      billmsec: '0',
      mduration: '2000',
      ...variables,
    },
    callflow: [{ caller_profile: { destination_number: DIALED, uuid: UUID } }],
  });
}

let h: Harness;
let db: SqliteDatabase;
let records: CallRecordRepository;

beforeEach(async () => {
  h = await makeHarness(dir.path, { rateLimit: false });
  // The integrator gives the Store its callRecords; until then the test hands the route one.
  db = openSqlite(h.dbPath);
  records = new SqliteCallRecords(db);
  Object.assign(h.store, { callRecords: records });
});
afterEach(async () => {
  db.close();
  await h.close();
});

async function token(role: 'api' | 'scheduler' | 'worker', revoked = false): Promise<string> {
  const secret = generateServiceToken();
  const record = await h.store.serviceTokens.create({
    id: `t-${role}-${secret.prefix}`,
    role,
    name: role,
    tokenHash: secret.hash,
    tokenPrefix: secret.prefix,
    createdAt: h.clock.now,
  });
  if (revoked) await h.store.serviceTokens.revoke(record.id, h.clock.now);
  return secret.token;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function postCdr(
  authorization: string | undefined,
  body: string,
  contentType = 'application/json',
  uuid = UUID,
) {
  return h.app.inject({
    method: 'POST',
    url: `/internal/v1/cdr?uuid=${uuid}`,
    headers: {
      'content-type': contentType,
      'user-agent': 'freeswitch-json/1.0',
      ...(authorization ? { authorization } : {}),
    },
    payload: body,
  });
}

describe('POST /internal/v1/cdr', () => {
  it('stores a record posted with the token as the Basic password; a re-post changes nothing', async () => {
    const worker = await token('worker');
    const first = await postCdr(basic('freeswitch', worker), cdr());
    expect(first.statusCode).toBe(201);
    expect(first.json()).toEqual({ callUuid: UUID, stored: 'new' });
    const again = await postCdr(basic('freeswitch', worker), cdr({ hangup_cause: 'NORMAL_CLEARING' }));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ callUuid: UUID, stored: 'duplicate' });
    const stored = await records.get(UUID);
    expect(stored).toMatchObject({
      attemptId: UUID,
      hangupCause: 'USER_BUSY',
      sipCode: 486,
      receivedAtMs: h.clock.now,
    });
    // Nothing of the document but the record's fields reached the database.
    const rows = JSON.stringify(db.prepare('SELECT * FROM call_records').all());
    expect(rows).not.toContain(DIALED);
  });

  it.each([
    ['application/json', (doc: string) => doc],
    ['application/x-www-form-urlencoded', (doc: string) => `cdr=${encodeURIComponent(doc)}`],
    ['application/x-www-form-base64-encoded', (doc: string) => `cdr=${Buffer.from(doc).toString('base64')}`],
  ])('takes %s with a Bearer token', async (contentType, encode) => {
    const response = await postCdr(`Bearer ${await token('worker')}`, encode(cdr()), contentType);
    expect(response.statusCode).toBe(201);
  });

  it('acknowledges and drops a record of a call the platform did not place', async () => {
    const doc = JSON.parse(cdr()) as { variables: Record<string, string> };
    delete doc.variables.sb_attempt;
    const response = await postCdr(`Bearer ${await token('worker')}`, JSON.stringify(doc));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ callUuid: UUID, stored: 'ignored' });
    expect(await records.get(UUID)).toBeUndefined();
  });

  it('opens only to a worker service token, and challenges for Basic', async () => {
    const none = await postCdr(undefined, cdr());
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic realm=.*Bearer$/);
    expect(none.headers['content-type']).toContain('application/problem+json');
    expect(none.json()).toMatchObject({ status: 401, code: 'unauthorized' });

    const worker = await token('worker');
    const refused = [
      await postCdr(basic('freeswitch', 'sbs_not-a-token'), cdr()),
      await postCdr(basic(worker, ''), cdr()),
      await postCdr(`Basic ${Buffer.from(worker).toString('base64')}`, cdr()),
      await postCdr(`Bearer ${ACME_KEY}`, cdr()),
      await postCdr(basic('freeswitch', await token('worker', true)), cdr()),
    ];
    expect(refused.map((r) => r.statusCode)).toEqual([401, 401, 401, 401, 401]);

    const api = await postCdr(basic('freeswitch', await token('api')), cdr());
    expect(api.statusCode).toBe(403);
    expect(api.json().code).toBe('forbidden');
    expect(await records.get(UUID)).toBeUndefined();
  });

  it('refuses what is not a usable record with a problem naming the field, never a value', async () => {
    const bearer = `Bearer ${await token('worker')}`;
    const bad = await postCdr(bearer, cdr({ hangup_cause: `busy ${DIALED}` }));
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      code: 'invalid_call_record',
      errors: [{ path: 'variables.hangup_cause', message: 'invalid_field' }],
    });
    expect(bad.body).not.toContain(DIALED);

    expect((await postCdr(bearer, '{"variables":')).json().code).toBe('invalid_call_record');
    expect(
      (await postCdr(bearer, cdr(), 'application/json', '0191f0a4-9a6b-7c3e-8d2f-000000000000')).statusCode,
    ).toBe(400);
    const plain = await postCdr(bearer, cdr(), 'text/plain');
    expect([plain.statusCode, plain.json().code]).toEqual([415, 'unsupported_media_type']);
    const huge = await postCdr(bearer, `{"pad":"${'x'.repeat(1024 * 1024)}"}`);
    expect([huge.statusCode, huge.json().code]).toEqual([413, 'payload_too_large']);
    const empty = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/cdr',
      headers: { authorization: bearer },
    });
    expect(empty.statusCode).toBe(415);
    expect(await records.get(UUID)).toBeUndefined();
  });

  it('answers 503 while the store keeps no call records (the switch retries)', async () => {
    Object.assign(h.store, { callRecords: undefined });
    const response = await postCdr(`Bearer ${await token('worker')}`, cdr());
    expect([response.statusCode, response.json().code]).toEqual([503, 'call_records_unavailable']);
  });
});
