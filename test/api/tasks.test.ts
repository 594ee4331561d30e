import { readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../support/temp-dir.js';
import {
  chineseMobile,
  createCampaign,
  type Harness,
  makeHarness,
  OTHER_KEY,
  seedResources,
} from './harness.js';

const dir = makeTempDir();
afterAll(() => dir.remove());

let h: Harness;
beforeEach(async () => {
  h = await makeHarness(dir.path);
});
afterEach(() => h.close());

function taskCount(campaignId: string): number {
  const db = new Database(h.dbPath, { readonly: true });
  try {
    return (
      db.prepare('SELECT COUNT(*) AS n FROM tasks WHERE campaign_id = ?').get(campaignId) as { n: number }
    ).n;
  } finally {
    db.close();
  }
}

describe('single task submission', () => {
  it('stores a task with the number masked, and reads it back with its attempts', async () => {
    const campaign = await createCampaign(h);
    const created = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks`,
      payload: {
        number: '13912345678', // national, read in the campaign region CN
        variables: { customer: 'Li', due_date: '2027-02-01' },
        priority: 5,
        notBefore: '2027-01-15T09:00:00+01:00',
        expiresAt: '2027-01-16T08:00:00Z',
        externalRef: 'crm-42',
      },
    });
    expect(created.statusCode).toBe(201);
    const task = created.json();
    expect(task).toMatchObject({
      campaignId: campaign.id,
      numberMasked: '+8613*******78',
      variables: { customer: 'Li', due_date: '2027-02-01' },
      priority: 5,
      notBefore: '2027-01-15T08:00:00.000Z',
      expiresAt: '2027-01-16T08:00:00.000Z',
      status: 'queued',
      externalRef: 'crm-42',
    });
    expect(created.body).not.toContain('13912345678');
    expect(h.notified).toContain(`tasks:${campaign.id}`);

    const got = await h.call({ method: 'GET', url: `/v1/tasks/${task.id}` });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({ id: task.id, attempts: [] });
  });

  it('refuses invalid numbers, bad fields and impossible times, storing nothing', async () => {
    const campaign = await createCampaign(h);
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ number: '+8612345' }, 'invalid_number', '/number'],
      [{ number: 'call me' }, 'invalid_number', '/number'],
      [{ number: '+8613800000001', extra: true }, 'validation_failed', '/extra'],
      [{ number: '+8613800000001', priority: 101 }, 'validation_failed', '/priority'],
      [{ number: '+8613800000001', priority: 1.5 }, 'validation_failed', '/priority'],
      [{ number: '+8613800000001', variables: { '1bad': 'x' } }, 'validation_failed', '/variables/1bad'],
      [
        { number: '+8613800000001', variables: { ok: 'x'.repeat(1025) } },
        'validation_failed',
        '/variables/ok',
      ],
      [
        {
          number: '+8613800000001',
          variables: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`v${i}`, 'x'])),
        },
        'validation_failed',
        '/variables',
      ],
      [{ number: '+8613800000001', externalRef: 'r'.repeat(129) }, 'validation_failed', '/externalRef'],
      [{ number: '+8613800000001', notBefore: '2027-01-15 10:00' }, 'validation_failed', '/notBefore'],
      [{ number: '+8613800000001', notBefore: 1_800_000_000_000 }, 'validation_failed', '/notBefore'],
      [{ number: '+8613800000001', expiresAt: '2027-01-15T07:59:59Z' }, 'validation_failed', '/expiresAt'],
      [
        { number: '+8613800000001', notBefore: '2027-01-17T00:00:00Z', expiresAt: '2027-01-16T00:00:00Z' },
        'validation_failed',
        '/expiresAt',
      ],
    ];
    for (const [payload, code, path] of cases) {
      const response = await h.call({ method: 'POST', url: `/v1/campaigns/${campaign.id}/tasks`, payload });
      expect(response.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(response.json().code).toBe(code);
      expect(response.json().errors[0].path).toBe(path);
    }
    expect(taskCount(campaign.id)).toBe(0);
  });

  it('reads national numbers only with a default region', async () => {
    const campaign = await createCampaign(h, { defaultRegion: null });
    const national = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks`,
      payload: { number: '13800000001' },
    });
    expect(national.json().code).toBe('invalid_number');
    const e164 = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks`,
      payload: { number: '+14155550100' },
    });
    expect(e164.statusCode).toBe(201);
  });

  it('reports a duplicate open number as 409, queues on a paused campaign, refuses a cancelled one', async () => {
    const campaign = await createCampaign(h);
    const url = `/v1/campaigns/${campaign.id}/tasks`;
    expect((await h.call({ method: 'POST', url, payload: { number: '+8613800000001' } })).statusCode).toBe(
      201,
    );
    const duplicate = await h.call({ method: 'POST', url, payload: { number: '13800000001' } });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json().code).toBe('duplicate_task');

    await h.call({ method: 'POST', url: `/v1/campaigns/${campaign.id}/pause` });
    expect((await h.call({ method: 'POST', url, payload: { number: '+8613800000002' } })).statusCode).toBe(
      201,
    );

    await h.call({ method: 'POST', url: `/v1/campaigns/${campaign.id}/cancel` });
    const refused = await h.call({ method: 'POST', url, payload: { number: '+8613800000003' } });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('campaign_cancelled');
    const refusedBatch = await h.call({
      method: 'POST',
      url: `${url}:batch`,
      payload: { tasks: [{ number: '+8613800000004' }] },
    });
    expect(refusedBatch.json().code).toBe('campaign_cancelled');
    expect(taskCount(campaign.id)).toBe(2);
  });
});

describe('batch submission', () => {
  it('reports each item and stores exactly the valid, non-duplicate ones', async () => {
    const campaign = await createCampaign(h);
    await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks`,
      payload: { number: '+8613800000009' },
    });
    const response = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks:batch`,
      payload: {
        tasks: [
          { number: '+8613800000001' },
          { number: 'not a number' },
          { number: '13800000001' }, // same as item 0, in national form
          { number: '+8613800000009' }, // already open in the campaign
          { number: '+8613800000002', colour: 'red' },
          'not an object',
          { number: '+14155550100', priority: -3 },
        ],
      },
    });
    expect(response.statusCode).toBe(207);
    const body = response.json();
    expect(body.counts).toEqual({ received: 7, created: 2, duplicate: 2, invalid: 3 });
    expect(body.results.map((r: { status: string }) => r.status)).toEqual([
      'created',
      'invalid',
      'duplicate',
      'duplicate',
      'invalid',
      'invalid',
      'created',
    ]);
    expect(body.results[1].error.code).toBe('invalid_number');
    expect(body.results[4].error).toMatchObject({ code: 'validation_failed', errors: [{ path: '/colour' }] });
    expect(body.results.map((r: { index: number }) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);

    const list = await h.call({ method: 'GET', url: `/v1/tasks?campaignId=${campaign.id}&limit=100` });
    const storedIds = list
      .json()
      .items.map((t: { id: string }) => t.id)
      .sort();
    const createdIds = [body.results[0].id, body.results[6].id];
    expect(storedIds).toHaveLength(3);
    expect(storedIds).toEqual(expect.arrayContaining(createdIds));
    expect(list.body).not.toMatch(/13800000001|4155550100/);
  });

  it('stores duplicates when skipDuplicates is false, on the /tasks/batch path too', async () => {
    const campaign = await createCampaign(h);
    const response = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks/batch`,
      payload: { tasks: [{ number: '+8613800000001' }, { number: '+8613800000001' }], skipDuplicates: false },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().counts).toMatchObject({ created: 2, duplicate: 0 });
  });

  it('accepts exactly 10,000 tasks in one request', async () => {
    const campaign = await createCampaign(h);
    const tasks = Array.from({ length: 10_000 }, (_, i) => ({
      number: chineseMobile(i + 1),
      variables: { n: String(i) },
    }));
    const response = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks:batch`,
      payload: { tasks },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().counts).toEqual({ received: 10_000, created: 10_000, duplicate: 0, invalid: 0 });
    expect(taskCount(campaign.id)).toBe(10_000);
  });

  it('refuses 10,001 tasks with a 413 and stores nothing', async () => {
    const campaign = await createCampaign(h);
    const tasks = Array.from({ length: 10_001 }, (_, i) => ({ number: chineseMobile(i + 1) }));
    const response = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks:batch`,
      payload: { tasks },
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().code).toBe('payload_too_large');
    expect(taskCount(campaign.id)).toBe(0);
    expect(h.notified).not.toContain(`tasks:${campaign.id}`);
  });

  it('never writes a plaintext number to the database files', async () => {
    const campaign = await createCampaign(h);
    await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks:batch`,
      payload: { tasks: [{ number: '+8613912345678' }, { number: '+14155550100' }] },
    });
    const db = new Database(h.dbPath, { readonly: true });
    const rows = db.prepare('SELECT * FROM tasks').all();
    db.close();
    expect(rows).toHaveLength(2);
    const text = JSON.stringify(rows);
    expect(text).not.toContain('3912345678');
    expect(text).not.toContain('4155550100');
    const folder = dirname(h.dbPath);
    for (const file of readdirSync(folder).filter((f) => h.dbPath.endsWith(f.replace(/-(wal|shm)$/, '')))) {
      const bytes = readFileSync(`${folder}/${file}`).toString('latin1');
      expect(bytes, file).not.toContain('3912345678');
      expect(bytes, file).not.toContain('4155550100');
    }
  });
});

describe('reading and cancelling tasks', () => {
  it('lists with filters and walks every task once', async () => {
    const first = await createCampaign(h, { name: 'first' });
    const second = await createCampaign(h, { name: 'second' });
    const tasks = Array.from({ length: 12 }, (_, i) => ({ number: chineseMobile(i + 1) }));
    await h.call({ method: 'POST', url: `/v1/campaigns/${first.id}/tasks:batch`, payload: { tasks } });
    await h.call({
      method: 'POST',
      url: `/v1/campaigns/${second.id}/tasks:batch`,
      payload: { tasks: tasks.slice(0, 3) },
    });

    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const url: string = `/v1/tasks?campaignId=${first.id}&limit=5${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await h.call({ method: 'GET', url });
      for (const task of page.json().items) {
        expect(seen.has(task.id)).toBe(false);
        expect(task.campaignId).toBe(first.id);
        seen.add(task.id);
      }
      cursor = page.json().nextCursor;
    } while (cursor);
    expect(seen.size).toBe(12);

    const all = await h.call({ method: 'GET', url: '/v1/tasks?limit=1000' });
    expect(all.json().items).toHaveLength(15);
    const [one] = all.json().items;
    await h.call({ method: 'POST', url: `/v1/tasks/${one.id}/cancel` });
    const cancelled = await h.call({ method: 'GET', url: '/v1/tasks?status=cancelled' });
    expect(cancelled.json().items.map((t: { id: string }) => t.id)).toEqual([one.id]);
    const noOutcome = await h.call({ method: 'GET', url: '/v1/tasks?outcome=answered' });
    expect(noOutcome.json().items).toEqual([]);
    const badStatus = await h.call({ method: 'GET', url: '/v1/tasks?status=ringing' });
    expect(badStatus.statusCode).toBe(400);
  });

  it('cancels a queued task once; a second cancel is 409 task_not_cancellable', async () => {
    const campaign = await createCampaign(h);
    const created = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks`,
      payload: { number: '+8613800000001' },
    });
    const id = created.json().id;
    const cancel = await h.call({ method: 'POST', url: `/v1/tasks/${id}/cancel` });
    expect(cancel.statusCode).toBe(200);
    expect(cancel.json()).toMatchObject({ status: 'cancelled', version: 2 });
    const again = await h.call({ method: 'POST', url: `/v1/tasks/${id}/cancel` });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('task_not_cancellable');
    expect((await h.call({ method: 'POST', url: '/v1/tasks/nope/cancel' })).statusCode).toBe(404);
  });

  it('shows the attempts of a task, and hides another tenant’s task behind a 404', async () => {
    const { switchId, gatewayId, lineId } = await seedResources(h);
    const campaign = await createCampaign(h, { lineIds: [lineId] }, OTHER_KEY);
    const created = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks`,
      key: OTHER_KEY,
      payload: { number: '+8613800000001' },
    });
    const id = created.json().id;
    const [claimed] = await h.store.dispatch.claim(
      [
        {
          taskId: id,
          expectedVersion: 1,
          attempt: {
            id: '0190a0a0-0000-7000-8000-000000000001',
            taskId: id,
            campaignId: campaign.id,
            tenantId: 'other',
            workerId: 'w1',
            switchId,
            gatewayId,
            lineId,
            callerId: null,
          },
        },
      ],
      h.clock.now,
    );
    expect(claimed).toBe(true);

    expect((await h.call({ method: 'GET', url: `/v1/tasks/${id}` })).statusCode).toBe(404);
    expect((await h.call({ method: 'POST', url: `/v1/tasks/${id}/cancel` })).statusCode).toBe(404);
    expect((await h.call({ method: 'GET', url: '/v1/tasks' })).json().items).toEqual([]);
    expect(
      (await h.call({ method: 'GET', url: `/v1/tasks?campaignId=${campaign.id}` })).json().items,
    ).toEqual([]);

    const own = await h.call({ method: 'GET', url: `/v1/tasks/${id}`, key: OTHER_KEY });
    expect(own.json()).toMatchObject({ status: 'dialing', version: 2 });
    expect(own.json().attempts).toEqual([
      expect.objectContaining({
        id: '0190a0a0-0000-7000-8000-000000000001',
        status: 'created',
        lineId,
        endedAt: null,
      }),
    ]);
    const notCancellable = await h.call({ method: 'POST', url: `/v1/tasks/${id}/cancel`, key: OTHER_KEY });
    expect(notCancellable.json().code).toBe('task_not_cancellable');
  });
});
