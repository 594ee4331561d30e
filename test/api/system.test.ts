import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/index.js';
import { NumberVault } from '../../src/security/number-vault.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { makeTempDir } from '../support/temp-dir.js';
import { ACME_KEY, createCampaign, type Harness, makeHarness } from './harness.js';

const dir = makeTempDir();
afterAll(() => dir.remove());

let h: Harness;
beforeEach(async () => {
  h = await makeHarness(dir.path, { bodyLimitBytes: 64 * 1024 });
});
afterEach(() => h.close());

describe('authentication', () => {
  it('refuses a missing or wrong key with 401, and accepts Bearer or X-API-Key', async () => {
    const missing = await h.call({ method: 'GET', url: '/v1/campaigns', key: null });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().code).toBe('unauthorized');
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    const wrong = await h.call({ method: 'GET', url: '/v1/campaigns', key: `${ACME_KEY}x` });
    expect(wrong.statusCode).toBe(401);
    const garbled = await h.call({
      method: 'GET',
      url: '/v1/campaigns',
      key: null,
      headers: { authorization: 'Basic abc' },
    });
    expect(garbled.statusCode).toBe(401);
    const viaHeader = await h.call({
      method: 'GET',
      url: '/v1/campaigns',
      key: null,
      headers: { 'x-api-key': ACME_KEY },
    });
    expect(viaHeader.statusCode).toBe(200);
    // a wrong key is refused before the body is even looked at
    const unauthenticatedWrite = await h.call({
      method: 'POST',
      url: '/v1/campaigns',
      key: 'nope',
      payload: { name: 'x' },
    });
    expect(unauthenticatedWrite.statusCode).toBe(401);
    expect((await h.call({ method: 'GET', url: '/v1/campaigns' })).json().items).toEqual([]);
  });
});

describe('problem responses', () => {
  it('maps malformed JSON, wrong media type, oversize bodies and unknown routes', async () => {
    const malformed = await h.call({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "x",',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(malformed.json()).toMatchObject({
      code: 'malformed_json',
      status: 400,
      title: expect.any(String),
    });

    const empty = await h.call({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    expect(empty.json().code).toBe('malformed_json');

    const text = await h.call({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { 'content-type': 'text/plain' },
      payload: 'name=x',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json().code).toBe('unsupported_media_type');

    const campaign = await createCampaign(h);
    const big = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks:batch`,
      payload: { tasks: Array.from({ length: 3000 }, () => ({ number: '+8613800000001' })) },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('payload_too_large');

    const nowhere = await h.call({ method: 'GET', url: '/v2/anything' });
    expect(nowhere.statusCode).toBe(404);
    expect(nowhere.json().code).toBe('not_found');
  });

  it('answers a failure inside with a bare 500 that leaks nothing', async () => {
    await h.store.close(); // every store call now throws
    const response = await h.call({ method: 'GET', url: '/v1/campaigns' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toMatchObject({ code: 'internal', status: 500 });
    expect(response.body).not.toMatch(/database|sqlite|stack|at /i);
  });
});

describe('system endpoints', () => {
  it('reports health without a key: 200 when ok, 503 when not', async () => {
    const ok = await h.call({ method: 'GET', url: '/healthz', key: null });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ ok: true, details: { store: 'up' } });
    expect(ok.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    h.healthy.ok = false;
    const down = await h.call({ method: 'GET', url: '/healthz', key: null });
    expect(down.statusCode).toBe(503);
    expect(down.json().ok).toBe(false);
  });

  it('serves Prometheus metrics including its own request counters', async () => {
    await h.call({ method: 'GET', url: '/v1/campaigns' });
    const metrics = await h.call({ method: 'GET', url: '/metrics', key: null });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.body).toMatch(
      /switchboard_http_requests_total\{method="GET",route="\/v1\/campaigns",status="200"\} 1/,
    );
    expect(metrics.body).toContain('switchboard_http_request_duration_seconds_bucket');
  });

  it('publishes an OpenAPI document listing every route, and the docs page', async () => {
    const response = await h.call({ method: 'GET', url: '/openapi.json', key: null });
    expect(response.statusCode).toBe(200);
    const doc = response.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBe('Switchboard API');
    const operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const expected = [
      'GET /healthz',
      'GET /metrics',
      'GET /openapi.json',
      'POST /v1/campaigns',
      'GET /v1/campaigns',
      'GET /v1/campaigns/{id}',
      'GET /v1/campaigns/{id}/dispatch-status',
      'GET /v1/lines/{id}/health',
      'PUT /v1/lines/{id}/health',
      'PATCH /v1/campaigns/{id}',
      'POST /v1/campaigns/{id}/pause',
      'POST /v1/campaigns/{id}/resume',
      'POST /v1/campaigns/{id}/cancel',
      'POST /v1/campaigns/{id}/tasks',
      'POST /v1/campaigns/{id}/tasks:batch',
      'POST /v1/campaigns/{id}/tasks/batch',
      'GET /v1/tasks',
      'GET /v1/tasks/{id}',
      'POST /v1/tasks/{id}/cancel',
      'POST /v1/tenants',
      'GET /v1/tenants',
      'GET /v1/tenants/{id}',
      'PATCH /v1/tenants/{id}',
      'POST /v1/api-keys',
      'GET /v1/api-keys',
      'DELETE /v1/api-keys/{id}',
      'GET /v1/audit',
      'POST /v1/erasures',
      'POST /v1/session',
      'GET /v1/session',
      'DELETE /v1/session',
      'POST /v1/users',
      'GET /v1/users',
      'PATCH /v1/users/{id}',
      'DELETE /v1/users/{id}',
      'GET /v1/campaigns/{id}/tasks/export',
      'GET /internal/v1/ping',
      'POST /internal/v1/cdr',
      ...['switches', 'gateways', 'lines'].flatMap((kind) => [
        `POST /v1/${kind}`,
        `GET /v1/${kind}`,
        `GET /v1/${kind}/{id}`,
        `PUT /v1/${kind}/{id}`,
        `DELETE /v1/${kind}/{id}`,
      ]),
    ];
    expect(operations.sort()).toEqual(expected.sort());
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.schemas.TaskInput.properties.number.type).toBe('string');
    const createCampaignOp = doc.paths['/v1/campaigns'].post;
    expect(createCampaignOp.requestBody.content['application/json'].schema.additionalProperties).toBe(false);
    expect(createCampaignOp.responses['201']).toBeDefined();

    const docs = await h.call({ method: 'GET', url: '/docs', key: null });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toMatch(/text\/html/);
  });
});

describe('logging', () => {
  it('never writes a phone number or an API key to the log', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const store = openSqliteStore(join(dir.path, 'logging.db'));
    const app = await buildApi({
      store,
      vault: new NumberVault({
        activeKeyId: 'k1',
        encryptionKeys: new Map([['k1', randomBytes(32)]]),
        indexKey: randomBytes(32),
      }),
      apiKeys: [{ key: ACME_KEY, tenantId: 'acme' }],
      clock: () => 1_800_000_000_000,
      logger: pino({ level: 'trace' }, sink),
      metricsRegistry: new Registry(),
      health: async () => ({ ok: true, details: {} }),
      notify: { tasksSubmitted() {}, campaignChanged() {}, resourcesChanged() {}, tenantChanged() {} },
    });
    const headers = { authorization: `Bearer ${ACME_KEY}` };
    const campaign = await app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers,
      payload: { name: 'c' },
    });
    const url = `/v1/campaigns/${campaign.json().id}/tasks`;
    await app.inject({ method: 'POST', url, headers, payload: { number: '+8613912345678' } });
    await app.inject({
      method: 'POST',
      url: `${url}:batch`,
      headers,
      payload: { tasks: [{ number: '+8613912345679' }, { number: '139' }] },
    });
    await store.close();
    await app.inject({ method: 'POST', url, headers, payload: { number: '+8613912345670' } }); // a 500
    await app.close();

    const log = lines.join('');
    expect(log).toContain('request failed'); // the 500 was logged, with its error
    expect(log).not.toMatch(/391234567/);
    expect(log).not.toContain(ACME_KEY);
  });
});
