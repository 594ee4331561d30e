import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../support/temp-dir.js';
import { createCampaign, type Harness, makeHarness, seedResources } from './harness.js';

/** "Why isn't it dialing?" and line health, answered by the real scheduler core. */
describe('dispatch status and line health', () => {
  const dir = makeTempDir();
  let h: Harness;
  let lineId: string;

  beforeAll(async () => {
    h = await makeHarness(dir.path);
    const seeded = await seedResources(h);
    lineId = seeded.lineId;
  });
  afterAll(async () => {
    await h.close();
    dir.remove();
  });

  it('explains that no switch can be reached, with the switch named', async () => {
    const campaign = await createCampaign(h, { lineIds: [lineId] });
    await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks`,
      payload: { number: '+8613800000001' },
    });
    await h.scheduler.runOnce();
    const response = await h.call({ method: 'GET', url: `/v1/campaigns/${campaign.id}/dispatch-status` });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      campaignId: campaign.id,
      status: 'active',
      dialing: false,
      hold: { kind: 'no_route' },
    });
    expect(body.hold.problems[0]).toMatchObject({ kind: 'switch_unreachable' });
  });

  it('explains outside calling hours with the next opening', async () => {
    const schedule = {
      timeZone: 'Asia/Shanghai',
      windows: [{ days: [1, 2, 3, 4, 5, 6, 7], start: '03:00', end: '03:01' }],
    };
    const campaign = await createCampaign(h, { lineIds: [lineId], schedule });
    await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks`,
      payload: { number: '+8613800000002' },
    });
    await h.scheduler.runOnce();
    const body = (
      await h.call({ method: 'GET', url: `/v1/campaigns/${campaign.id}/dispatch-status` })
    ).json();
    expect(body.hold.kind).toBe('outside_window');
    expect(body.hold.nextOpeningAtMs).toBeGreaterThan(h.clock.now);
  });

  it('refuses a schedule that cannot be, naming the field', async () => {
    const response = await h.call({
      method: 'POST',
      url: '/v1/campaigns',
      payload: {
        name: 'bad',
        schedule: { timeZone: 'Mars/Olympus', windows: [{ days: [1], start: '10:00', end: '09:00' }] },
      },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].path).toMatch(/^\/schedule\//);
  });

  it('shows a line healthy, and lets an operator force it out and back, audited', async () => {
    const health = await h.call({ method: 'GET', url: `/v1/lines/${lineId}/health` });
    expect(health.json()).toMatchObject({ lineId, state: 'healthy', usable: true, override: null });
    const out = await h.call({
      method: 'PUT',
      url: `/v1/lines/${lineId}/health`,
      payload: { override: 'out' },
    });
    expect(out.json().healthOverride).toBe('out');
    expect((await h.call({ method: 'GET', url: `/v1/lines/${lineId}/health` })).json()).toMatchObject({
      usable: false,
      override: 'out',
    });
    await h.call({ method: 'PUT', url: `/v1/lines/${lineId}/health`, payload: { override: null } });
    expect((await h.call({ method: 'GET', url: `/v1/lines/${lineId}/health` })).json()).toMatchObject({
      usable: true,
      override: null,
    });
    const audit = (await h.call({ method: 'GET', url: '/v1/audit' })).json();
    expect(audit.items.filter((e: { action: string }) => e.action === 'line.health_override')).toHaveLength(
      2,
    );
  });
});
