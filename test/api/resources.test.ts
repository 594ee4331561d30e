import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../support/temp-dir.js';
import { createCampaign, type Harness, makeHarness, OTHER_KEY, seedResources } from './harness.js';

const dir = makeTempDir();
afterAll(() => dir.remove());

let h: Harness;
beforeEach(async () => {
  h = await makeHarness(dir.path);
});
afterEach(() => h.close());

const switchBody = {
  name: 'fs1',
  eslHost: 'fs1.example.net',
  eslPassword: 'S3cret-Pass',
  maxSessions: 1000,
  maxCaps: 100,
};

describe('switches', () => {
  it('creates, lists, gets and replaces a switch; the password is write-only and sealed at rest', async () => {
    const created = await h.call({ method: 'POST', url: '/v1/switches', payload: switchBody });
    expect(created.statusCode).toBe(201);
    const sw = created.json();
    expect(sw).toMatchObject({ name: 'fs1', eslPort: 8021, eslPasswordSet: true, enabled: true, version: 1 });
    expect(created.body).not.toContain('S3cret');
    expect(h.notified).toEqual(['resources']);

    const db = new Database(h.dbPath, { readonly: true });
    expect(JSON.stringify(db.prepare('SELECT * FROM switches').all())).not.toContain('S3cret');
    db.close();

    const list = await h.call({ method: 'GET', url: '/v1/switches' });
    expect(list.json().items.map((s: { id: string }) => s.id)).toEqual([sw.id]);
    expect(list.body).not.toContain('S3cret');

    // omitting the password on update keeps it
    const { eslPassword: _password, ...withoutPassword } = switchBody;
    const replaced = await h.call({
      method: 'PUT',
      url: `/v1/switches/${sw.id}`,
      payload: { ...withoutPassword, maxCaps: 150, version: 1 },
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ maxCaps: 150, version: 2, eslPasswordSet: true });
    const stored = await h.store.resources.getSwitch(sw.id);
    expect(stored?.eslPasswordSealed).toMatch(/^v1\.k1\./);

    const stale = await h.call({
      method: 'PUT',
      url: `/v1/switches/${sw.id}`,
      headers: { 'if-match': '"1"' },
      payload: withoutPassword,
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().code).toBe('version_conflict');

    const got = await h.call({ method: 'GET', url: `/v1/switches/${sw.id}` });
    expect(got.json().maxCaps).toBe(150);
    expect(got.headers.etag).toBe('"2"');
  });

  it('validates host, port, password and name', async () => {
    const cases = [
      { ...switchBody, eslHost: 'bad host;rm' },
      { ...switchBody, eslHost: '-leading.example' },
      { ...switchBody, eslPort: 70_000 },
      { ...switchBody, eslPassword: 'with space' },
      { ...switchBody, eslPassword: 'line\nbreak' },
      { ...switchBody, name: 'fs 1' },
      { ...switchBody, eslPassword: undefined },
      { ...switchBody, maxCaps: 0 },
    ];
    for (const payload of cases) {
      const response = await h.call({ method: 'POST', url: '/v1/switches', payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().code).toBe('validation_failed');
    }
    const ipv6 = await h.call({
      method: 'POST',
      url: '/v1/switches',
      payload: { ...switchBody, eslHost: '::1' },
    });
    expect(ipv6.statusCode).toBe(201);
    const sameName = await h.call({ method: 'POST', url: '/v1/switches', payload: switchBody });
    expect(sameName.statusCode).toBe(409);
    expect(sameName.json().code).toBe('name_taken');
  });
});

describe('gateways and lines', () => {
  it('checks references, and refuses to delete what is in use', async () => {
    const { switchId, gatewayId, lineId } = await seedResources(h);

    const unknownSwitch = await h.call({
      method: 'POST',
      url: '/v1/gateways',
      payload: { name: 'gw2', switchIds: [switchId, 'nope'] },
    });
    expect(unknownSwitch.statusCode).toBe(400);
    expect(unknownSwitch.json().errors).toEqual([{ path: '/switchIds/1', message: 'no such switch' }]);
    const badName = await h.call({
      method: 'POST',
      url: '/v1/gateways',
      payload: { name: 'gw/2', switchIds: [switchId] },
    });
    expect(badName.statusCode).toBe(400);

    const unknownGateway = await h.call({
      method: 'POST',
      url: '/v1/lines',
      payload: { name: 'l2', gatewayId: 'nope', caps: 1, maxConcurrent: 1, tenantId: 'ghost' },
    });
    expect(unknownGateway.json().errors.map((e: { path: string }) => e.path)).toEqual([
      '/gatewayId',
      '/tenantId',
    ]);

    const campaign = await createCampaign(h, { lineIds: [lineId] });
    for (const [url, code] of [
      [`/v1/switches/${switchId}`, 'resource_in_use'],
      [`/v1/gateways/${gatewayId}`, 'resource_in_use'],
      [`/v1/lines/${lineId}`, 'resource_in_use'],
    ] as const) {
      const response = await h.call({ method: 'DELETE', url });
      expect(response.statusCode, url).toBe(409);
      expect(response.json().code).toBe(code);
    }

    // free the line, then everything can go, leaf first
    await h.call({ method: 'PATCH', url: `/v1/campaigns/${campaign.id}`, payload: { lineIds: [] } });
    for (const url of [`/v1/lines/${lineId}`, `/v1/gateways/${gatewayId}`, `/v1/switches/${switchId}`]) {
      expect((await h.call({ method: 'DELETE', url })).statusCode, url).toBe(204);
      expect((await h.call({ method: 'GET', url })).statusCode, url).toBe(404);
    }
    expect((await h.call({ method: 'DELETE', url: `/v1/lines/${lineId}` })).statusCode).toBe(404);
  });

  it('replaces a gateway and a line, with defaults for the line', async () => {
    const { switchId, gatewayId, lineId } = await seedResources(h);
    const line = (await h.call({ method: 'GET', url: `/v1/lines/${lineId}` })).json();
    expect(line).toMatchObject({
      dialTemplate: 'sofia/gateway/{gateway}/{number}',
      numberFormat: 'e164',
      callerIds: [],
      tenantId: null,
      enabled: true,
    });
    const gw = await h.call({
      method: 'PUT',
      url: `/v1/gateways/${gatewayId}`,
      payload: { name: 'carrier-a', switchIds: [switchId], maxCaps: 30, enabled: false },
    });
    expect(gw.json()).toMatchObject({ maxCaps: 30, maxConcurrent: null, enabled: false, version: 2 });

    const replaced = await h.call({
      method: 'PUT',
      url: `/v1/lines/${lineId}`,
      payload: {
        name: 'line-a',
        gatewayId,
        dialTemplate: 'sofia/gateway/{gateway}/0086{number}@carrier.example:5060',
        numberFormat: 'national',
        callerIds: ['+862150000000', '4001234567'],
        caps: 20,
        maxConcurrent: 200,
        tenantId: 'acme',
      },
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({
      numberFormat: 'national',
      tenantId: 'acme',
      caps: 20,
      version: 2,
    });
    const lines = await h.call({ method: 'GET', url: '/v1/lines', key: OTHER_KEY });
    expect(lines.json().items).toHaveLength(1);
  });

  it('refuses dial templates that could inject anything', async () => {
    const { gatewayId } = await seedResources(h);
    for (const dialTemplate of [
      'sofia/gateway/{gateway}',
      'sofia/gateway/{gateway}/{number}{caller}',
      '{origination_caller_id_number=1}sofia/gateway/{gateway}/{number}',
      'sofia/gateway/{gateway}/{number} &park',
      'sofia/gateway/{gateway}/{number}\r\napi shutdown',
      'sofia/gateway/{gateway}/{number},user/1000',
      '',
    ]) {
      const response = await h.call({
        method: 'POST',
        url: '/v1/lines',
        payload: { name: 'l-bad', gatewayId, dialTemplate, caps: 1, maxConcurrent: 1 },
      });
      expect(response.statusCode, dialTemplate).toBe(400);
    }
  });
});
