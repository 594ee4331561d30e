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

describe('campaigns', () => {
  it('creates a campaign with defaults, then gets it with its stats', async () => {
    const { lineId } = await seedResources(h);
    const created = await h.call({
      method: 'POST',
      url: '/v1/campaigns',
      payload: {
        name: 'Renewals',
        lineIds: [lineId],
        defaultRegion: 'CN',
        retryPolicy: { maxAttempts: 3, retryDelaySec: { busy: 60 } },
      },
    });
    expect(created.statusCode).toBe(201);
    const campaign = created.json();
    expect(created.headers.location).toBe(`/v1/campaigns/${campaign.id}`);
    expect(created.headers.etag).toBe('"1"');
    expect(campaign).toMatchObject({
      name: 'Renewals',
      status: 'active',
      weight: 1,
      lineIds: [lineId],
      ringTimeoutSec: 30,
      maxCallDurationSec: 3600,
      caps: null,
      // omitted delays keep their defaults
      retryPolicy: { maxAttempts: 3, retryDelaySec: { busy: 60, no_answer: 900 } },
      createdAt: '2027-01-15T08:00:00.000Z',
    });
    expect(h.notified).toContain(`campaign:${campaign.id}`);

    const got = await h.call({ method: 'GET', url: `/v1/campaigns/${campaign.id}` });
    expect(got.statusCode).toBe(200);
    expect(got.json().stats.byStatus).toEqual({
      queued: 0,
      dialing: 0,
      completed: 0,
      expired: 0,
      cancelled: 0,
    });
  });

  it('refuses unknown lines, another tenant’s exclusive line, bad regions and out-of-range fields', async () => {
    const { gatewayId } = await seedResources(h);
    const exclusive = await h.call({
      method: 'POST',
      url: '/v1/lines',
      payload: { name: 'other-only', gatewayId, caps: 1, maxConcurrent: 1, tenantId: 'other' },
    });
    expect(exclusive.statusCode).toBe(201);
    const refused = await h.call({
      method: 'POST',
      url: '/v1/campaigns',
      payload: { name: 'x', lineIds: ['no-such-line', exclusive.json().id], defaultRegion: 'XX' },
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().code).toBe('validation_failed');
    expect(
      refused
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(['/defaultRegion', '/lineIds/0', '/lineIds/1']);
    // the owner may use it
    await createCampaign(h, { lineIds: [exclusive.json().id] }, OTHER_KEY);

    for (const payload of [
      { name: 'x', weight: 0 },
      { name: 'x', weight: 1001 },
      { name: 'x', ringTimeoutSec: 4 },
      { name: 'x', maxCallDurationSec: 14_401 },
      { name: 'x', retryPolicy: { maxAttempts: 11 } },
      { name: 'x', retryPolicy: { maxAttempts: 2, retryDelaySec: { answered: 5 } } },
      { name: 'x', callerId: '10-01' },
      { name: 'x', weight: '5' },
      { name: 'x', caps: 0 },
      {},
    ]) {
      const response = await h.call({ method: 'POST', url: '/v1/campaigns', payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().code).toBe('validation_failed');
    }
  });

  it('patches with optimistic concurrency through If-Match or version', async () => {
    const campaign = await createCampaign(h);
    const patched = await h.call({
      method: 'PATCH',
      url: `/v1/campaigns/${campaign.id}`,
      headers: { 'if-match': '"1"' },
      payload: { weight: 7, caps: 20 },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ weight: 7, caps: 20, version: 2, name: 'Renewals' });
    expect(patched.headers.etag).toBe('"2"');

    const stale = await h.call({
      method: 'PATCH',
      url: `/v1/campaigns/${campaign.id}`,
      headers: { 'if-match': '"1"' },
      payload: { weight: 9 },
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().code).toBe('version_conflict');
    const staleBody = await h.call({
      method: 'PATCH',
      url: `/v1/campaigns/${campaign.id}`,
      payload: { weight: 9, version: 1 },
    });
    expect(staleBody.json().code).toBe('version_conflict');

    const cleared = await h.call({
      method: 'PATCH',
      url: `/v1/campaigns/${campaign.id}`,
      payload: { caps: null },
    });
    expect(cleared.json()).toMatchObject({ caps: null, weight: 7, version: 3 });

    const unknownField = await h.call({
      method: 'PATCH',
      url: `/v1/campaigns/${campaign.id}`,
      payload: { status: 'paused' },
    });
    expect(unknownField.statusCode).toBe(400);
  });

  it('pauses, resumes and cancels; a cancelled campaign stays cancelled', async () => {
    const campaign = await createCampaign(h);
    const pause = await h.call({ method: 'POST', url: `/v1/campaigns/${campaign.id}/pause` });
    expect(pause.json().status).toBe('paused');
    const resume = await h.call({ method: 'POST', url: `/v1/campaigns/${campaign.id}/resume` });
    expect(resume.json().status).toBe('active');
    const cancel = await h.call({ method: 'POST', url: `/v1/campaigns/${campaign.id}/cancel` });
    expect(cancel.json().status).toBe('cancelled');
    const again = await h.call({ method: 'POST', url: `/v1/campaigns/${campaign.id}/resume` });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('campaign_cancelled');
    expect(h.notified.filter((n) => n === `campaign:${campaign.id}`)).toHaveLength(4);
  });

  it('hides another tenant’s campaign behind a 404 and leaves it unchanged', async () => {
    const theirs = await createCampaign(h, { name: 'Theirs' }, OTHER_KEY);
    const attempts = [
      h.call({ method: 'GET', url: `/v1/campaigns/${theirs.id}` }),
      h.call({ method: 'PATCH', url: `/v1/campaigns/${theirs.id}`, payload: { name: 'Mine now' } }),
      h.call({ method: 'POST', url: `/v1/campaigns/${theirs.id}/pause` }),
      h.call({ method: 'POST', url: `/v1/campaigns/${theirs.id}/cancel` }),
      h.call({
        method: 'POST',
        url: `/v1/campaigns/${theirs.id}/tasks`,
        payload: { number: '+8613800000001' },
      }),
      h.call({
        method: 'POST',
        url: `/v1/campaigns/${theirs.id}/tasks:batch`,
        payload: { tasks: [{ number: '+8613800000001' }] },
      }),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.statusCode).toBe(404);
      expect(response.json().code).toBe('not_found');
    }
    const list = await h.call({ method: 'GET', url: '/v1/campaigns' });
    expect(list.json().items).toEqual([]);
    const unchanged = await h.call({ method: 'GET', url: `/v1/campaigns/${theirs.id}`, key: OTHER_KEY });
    expect(unchanged.json()).toMatchObject({ name: 'Theirs', status: 'active', version: 1 });
    expect(unchanged.json().stats.byStatus.queued).toBe(0);
  });

  it('404s an unknown campaign', async () => {
    const response = await h.call({
      method: 'GET',
      url: '/v1/campaigns/0190a0a0-0000-7000-8000-000000000000',
    });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('walks every campaign exactly once with cursor pagination', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      h.clock.now += 1; // distinct creation times, so ids sort by creation
      ids.push((await createCampaign(h, { name: `c${i}` })).id);
    }
    await createCampaign(h, { name: 'not mine' }, OTHER_KEY);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=5&cursor=${cursor}` : '?limit=5';
      const page = await h.call({ method: 'GET', url: `/v1/campaigns${query}` });
      expect(page.statusCode).toBe(200);
      seen.push(...page.json().items.map((c: { id: string }) => c.id));
      cursor = page.json().nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(5);
    expect(seen).toEqual(ids);

    const badLimit = await h.call({ method: 'GET', url: '/v1/campaigns?limit=0' });
    expect(badLimit.statusCode).toBe(400);
    const unknownParam = await h.call({ method: 'GET', url: '/v1/campaigns?sort=name' });
    expect(unknownParam.statusCode).toBe(400);
  });
});
