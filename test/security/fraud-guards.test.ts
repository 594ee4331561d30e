import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { destinationRefusal, isPremiumRate } from '../../src/intake/destination-policy.js';
import { createCampaign, type Harness, makeHarness } from '../api/harness.js';
import { makeTempDir } from '../support/temp-dir.js';

const dir = makeTempDir();
afterAll(() => dir.remove());

let h: Harness;
beforeEach(async () => {
  h = await makeHarness(dir.path);
});
afterEach(() => h.close());

const PREMIUM = ['+19005550100', '+449098790000', '+33891123456'];

describe('destination guards at intake', () => {
  it('refuses premium-rate numbers by default, per item, until the tenant explicitly allows them', async () => {
    for (const number of PREMIUM) expect(isPremiumRate(number), number).toBe(true);
    expect(isPremiumRate('+8613800000001')).toBe(false);
    const campaign = await createCampaign(h);
    const single = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks`,
      payload: { number: PREMIUM[0] },
    });
    expect(single.statusCode).toBe(400);
    expect(single.json()).toMatchObject({ code: 'premium_rate_refused', errors: [{ path: '/number' }] });
    expect(single.body).not.toContain('5550100');
    const batch = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks:batch`,
      payload: { tasks: [{ number: '+8613800000001' }, { number: PREMIUM[1] }] },
    });
    expect(batch.statusCode).toBe(207);
    expect(
      batch
        .json()
        .results.map((r: { status: string; error?: { code: string } }) => r.error?.code ?? r.status),
    ).toEqual(['created', 'premium_rate_refused']);

    const enabled = await h.call({
      method: 'PATCH',
      url: '/v1/tenants/acme',
      payload: { destinations: { allowPremiumRate: true } },
    });
    expect(enabled.statusCode).toBe(200);
    const allowed = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks`,
      payload: { number: PREMIUM[2] },
    });
    expect(allowed.statusCode).toBe(201);
  });

  it('applies the allow and deny prefix lists, deny first', async () => {
    await h.call({
      method: 'PATCH',
      url: '/v1/tenants/acme',
      payload: { destinations: { allowPrefixes: ['+86'], denyPrefixes: ['+86170'] } },
    });
    const campaign = await createCampaign(h);
    const batch = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks:batch`,
      payload: {
        tasks: [{ number: '+8613800000001' }, { number: '+8617012345678' }, { number: '+14155550100' }],
      },
    });
    expect(
      batch
        .json()
        .results.map((r: { status: string; error?: { code: string } }) => r.error?.code ?? r.status),
    ).toEqual(['created', 'destination_denied', 'destination_denied']);
    expect(batch.json().counts).toEqual({ received: 3, created: 1, duplicate: 0, invalid: 2 });
    const policy = { allowPrefixes: ['+1'], denyPrefixes: ['+1900'], allowPremiumRate: true };
    expect(destinationRefusal('+19005550100', policy)?.code).toBe('destination_denied');
    expect(destinationRefusal('+14155550100', policy)).toBeUndefined();
  });

  it('validates prefixes as E.164 prefixes', async () => {
    const response = await h.call({
      method: 'PATCH',
      url: '/v1/tenants/acme',
      payload: { destinations: { denyPrefixes: ['86'] } },
    });
    expect(response.statusCode).toBe(400);
  });
});

describe('switch security', () => {
  const body = (extra: Record<string, unknown>) => ({
    name: 'fs1',
    eslPort: 8021,
    maxSessions: 100,
    maxCaps: 10,
    ...extra,
  });

  it("refuses FreeSWITCH's default ESL password on a non-loopback host unless explicitly allowed", async () => {
    const refused = await h.call({
      method: 'POST',
      url: '/v1/switches',
      payload: body({ eslHost: '10.0.0.5', eslPassword: 'ClueCon' }),
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().code).toBe('default_esl_password');
    expect((await h.call({ method: 'GET', url: '/v1/switches' })).json().items).toEqual([]);

    const loopback = await h.call({
      method: 'POST',
      url: '/v1/switches',
      payload: body({ eslHost: '127.0.0.1', eslPassword: 'ClueCon' }),
    });
    expect(loopback.statusCode).toBe(201);
    // moving it off loopback while keeping the default password is refused too
    const moved = await h.call({
      method: 'PUT',
      url: `/v1/switches/${loopback.json().id}`,
      payload: body({ eslHost: 'fs1.example.net' }),
    });
    expect(moved.json().code).toBe('default_esl_password');
    const allowed = await h.call({
      method: 'PUT',
      url: `/v1/switches/${loopback.json().id}`,
      payload: body({ eslHost: 'fs1.example.net', allowDefaultPassword: true }),
    });
    expect(allowed.statusCode).toBe(200);
    const strong = await h.call({
      method: 'POST',
      url: '/v1/switches',
      payload: body({ name: 'fs2', eslHost: '10.0.0.6', eslPassword: 'Zq8-long-and-random' }),
    });
    expect(strong.statusCode).toBe(201);
    // sealed at rest
    const db = new Database(h.dbPath, { readonly: true });
    const rows = JSON.stringify(db.prepare('SELECT * FROM switches').all());
    db.close();
    expect(rows).not.toContain('Zq8-long-and-random');
    expect(rows).not.toContain('ClueCon');
  });
});

describe('request size limits', () => {
  it('keeps small routes small and lets only a batch be large', async () => {
    const campaign = await createCampaign(h);
    const big = await h.call({
      method: 'POST',
      url: '/v1/campaigns',
      payload: { name: 'x', padding: 'y'.repeat(100 * 1024) },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('payload_too_large');
    const batch = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks:batch`,
      payload: {
        tasks: Array.from({ length: 2000 }, (_, i) => ({
          number: `+86138${String(i).padStart(8, '0')}`,
          variables: { note: 'z'.repeat(40) },
        })),
      },
    });
    expect(batch.statusCode).toBe(200);
  });
});
