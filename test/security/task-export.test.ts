import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ACME_KEY,
  chineseMobile,
  createCampaign,
  type Harness,
  makeHarness,
  OTHER_KEY,
} from '../api/harness.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * The audited export (issue 6 §3): the one route that sends numbers in clear, to administrators
 * only, recorded in the audit log with its row count and never a number.
 */
const dir = makeTempDir();
afterAll(() => dir.remove());

let h: Harness;
beforeEach(async () => {
  h = await makeHarness(dir.path, { rateLimit: false });
});
afterEach(() => h.close());

async function keyFor(role: string): Promise<string> {
  const response = await h.call({ method: 'POST', url: '/v1/api-keys', payload: { name: role, role } });
  return response.json().key;
}

describe('task export', () => {
  it('streams every task with its number in E.164, quoted where needed, and audits the count only', async () => {
    const campaign = await createCampaign(h);
    const tasks = Array.from({ length: 1_203 }, (_, i) => ({
      number: i === 0 ? '13800000007' : chineseMobile(1_000 + i),
      ...(i === 1 ? { externalRef: '=HYPERLINK("x"),"a"' } : i === 2 ? { externalRef: 'crm-2' } : {}),
    }));
    const batch = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks/batch`,
      payload: { tasks },
    });
    expect(batch.json().counts.created).toBe(1_203);
    const headBefore = (await h.store.audit.head())!.seq;

    const response = await h.call({ method: 'GET', url: `/v1/campaigns/${campaign.id}/tasks/export` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toBe(
      `attachment; filename="campaign-${campaign.id}-tasks.csv"`,
    );
    expect(response.headers['cache-control']).toBe('no-store');
    const lines = response.body.split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(lines[0]).toBe('task_id,number,status,outcome,attempts,external_ref');
    const rows = lines.slice(1, -1);
    expect(rows).toHaveLength(1_203);
    const numbers = new Set(rows.map((row) => row.split(',')[1]));
    expect(numbers).toEqual(new Set(['+8613800000007', ...tasks.slice(1).map((t) => t.number)]));
    // Rows in task-id order (pages follow the id), the formula neutralised and quoted.
    const ids = rows.map((row) => row.split(',')[0]!);
    expect([...ids].sort()).toEqual(ids);
    expect(rows.filter((row) => row.endsWith(`,queued,,0,"'=HYPERLINK(""x""),""a"""`))).toHaveLength(1);
    expect(rows.filter((row) => /,\+86138\d{8},queued,,0,crm-2$/.test(row))).toHaveLength(1);

    const entries = await h.store.audit.list({ afterSeq: headBefore, limit: 10 });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      action: 'tasks.export',
      actor: 'bootstrap:acme',
      target: `campaign:${campaign.id}`,
    });
    expect(JSON.parse(entries[0]!.after!)).toEqual({
      format: 'csv',
      rows: 1_203,
      columns: ['task_id', 'number', 'status', 'outcome', 'attempts', 'external_ref'],
    });
    const audit = JSON.stringify(await h.store.audit.list({ limit: 1000 }));
    for (const number of ['13800000007', '1380000', chineseMobile(500).slice(3)])
      expect(audit).not.toContain(number);
  });

  it('is for administrators only: operators, auditors and agents get 403, another tenant 404, and nothing is audited', async () => {
    const campaign = await createCampaign(h);
    await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks`,
      payload: { number: chineseMobile(1) },
    });
    const headBefore = (await h.store.audit.head())!.seq;
    for (const role of ['operator', 'auditor', 'agent']) {
      const key = await keyFor(role);
      const response = await h.call({ method: 'GET', url: `/v1/campaigns/${campaign.id}/tasks/export`, key });
      expect(response.statusCode, role).toBe(403);
      expect(response.body).not.toContain('+86');
    }
    const foreign = await h.call({
      method: 'GET',
      url: `/v1/campaigns/${campaign.id}/tasks/export`,
      key: OTHER_KEY,
    });
    expect(foreign.statusCode).toBe(404);
    const auditActions = (await h.store.audit.list({ afterSeq: headBefore, limit: 100 })).map(
      (e) => e.action,
    );
    expect(auditActions).toEqual(['api_key.create', 'api_key.create', 'api_key.create']);
    // and a tenant admin may
    const admin = await keyFor('tenant_admin');
    const allowed = await h.call({
      method: 'GET',
      url: `/v1/campaigns/${campaign.id}/tasks/export`,
      key: admin,
    });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.body).toContain(chineseMobile(1));
    // Every other route still shows the number masked.
    const listed = await h.call({ method: 'GET', url: '/v1/tasks', key: ACME_KEY });
    expect(listed.body).not.toContain(chineseMobile(1));
  });
});
