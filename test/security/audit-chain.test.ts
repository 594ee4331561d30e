import { afterAll, afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { runSecurityCommand } from '../../src/cli/security-commands.js';
import { uuidv7 } from '../../src/domain/ids.js';
import { auditEntryHash, verifyAuditChain } from '../../src/security/audit-chain.js';
import type { Store } from '../../src/store/contract.js';
import {
  ACME_KEY,
  chineseMobile,
  createCampaign,
  type Harness,
  makeHarness,
  OTHER_KEY,
} from '../api/harness.js';
import { makeTempDir } from '../support/temp-dir.js';
import { type CliSite, cliStoreKinds } from './cli-stores.js';

const dir = makeTempDir();
afterAll(() => dir.remove());

const DAY_MS = 86_400_000;
const kinds = await cliStoreKinds();

async function appendEntries(store: Store, count: number, startMs = Date.now(), stepMs = 1000) {
  for (let i = 0; i < count; i++) {
    const at = startMs + i * stepMs;
    await store.audit.append(
      {
        id: uuidv7(at),
        at,
        actor: 'key:test',
        tenantId: 'acme',
        sourceIp: '127.0.0.1',
        action: `test.action${i + 1}`,
        target: `thing:${i + 1}`,
        before: null,
        after: JSON.stringify({ i: i + 1 }),
      },
      auditEntryHash,
    );
  }
}

/** `switchboard audit …` against the site's store, found as an operator's shell would find it. */
async function cli(site: CliSite, args: string[]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await runSecurityCommand(
    'audit',
    [...args, '--data-dir', site.dataDir],
    (line) => lines.push(line),
    site.env,
  );
  return { code, output: lines.join('\n') };
}

describe.each(kinds.map((kind) => [kind.name, kind] as const))('%s: audit chain', (_name, kind) => {
  let site: CliSite;
  beforeEach(async () => {
    site = await kind.site(dir.path);
  });
  afterEach(() => site.dispose());

  /** A store with `count` entries appended, closed again. */
  async function withEntries(count: number): Promise<void> {
    const store = await site.open();
    try {
      await appendEntries(store, count);
    } finally {
      await store.close();
    }
  }

  async function verify() {
    const store = await site.open();
    try {
      return await verifyAuditChain(store.audit);
    } finally {
      await store.close();
    }
  }

  it('verifies an intact chain, and `audit verify` says so', async () => {
    await withEntries(5);
    expect(await verify()).toMatchObject({ ok: true, entries: 5, problems: [] });
    const run = await cli(site, ['verify']);
    expect(run.code).toBe(0);
    expect(run.output).toMatch(/^ok: 5 entries/m);
  });

  it.each([
    [
      'altered',
      `UPDATE audit_log SET action = 'nothing.happened' WHERE seq = 3`,
      [{ kind: 'altered', seq: 3 }],
    ],
    ['removed', 'DELETE FROM audit_log WHERE seq = 3', [{ kind: 'removed', seq: 4 }]],
    [
      'reordered',
      'UPDATE audit_log SET seq = -3 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = -3;',
      [
        { kind: 'reordered', seq: 3 },
        { kind: 'reordered', seq: 4 },
        { kind: 'reordered', seq: 5 },
      ],
    ],
    ['truncated', 'DELETE FROM audit_log WHERE seq = 6', [{ kind: 'truncated', seq: 6 }]],
  ])(
    'detects an %s entry (tampered in the database), and `audit verify` fails',
    async (_case, sql, expected) => {
      await withEntries(6);
      await site.tamper(sql);
      const result = await verify();
      expect(result.ok).toBe(false);
      expect(result.problems.map(({ kind, seq }) => ({ kind, seq }))).toEqual(expected);
      const run = await cli(site, ['verify']);
      expect(run.code).toBe(1);
      expect(run.output).toContain(`entry ${expected[0]!.seq}: ${expected[0]!.kind}`);
    },
  );

  it('is append-only in the database: updates and unpruned deletes are refused', async () => {
    await withEntries(2);
    await expect(site.execute(`UPDATE audit_log SET actor = 'me' WHERE seq = 1`)).rejects.toThrow(
      /append-only/,
    );
    await expect(site.execute('DELETE FROM audit_log WHERE seq = 1')).rejects.toThrow(/checkpointed prune/);
    expect(await verify()).toMatchObject({ ok: true, entries: 2 });
  });

  it('prunes past the retention with a checkpoint, and the chain still verifies and continues', async () => {
    const now = Date.now();
    const store = await site.open();
    await appendEntries(store, 4, now - 500 * DAY_MS, DAY_MS); // 500 days old
    await appendEntries(store, 3, now - 10 * DAY_MS, DAY_MS); // recent
    await store.close();

    expect((await cli(site, ['prune', '--retention-days', '200'])).code).toBe(0);
    const reopened = await site.open();
    const checkpoint = await reopened.audit.checkpoint();
    expect(checkpoint).toMatchObject({ throughSeq: 4, pruned: 4 });
    const entries = await reopened.audit.list({ limit: 100 });
    expect(entries.map((e) => e.seq)).toEqual([5, 6, 7, 8]); // 8: the prune itself, audited
    expect(entries.at(-1)).toMatchObject({ action: 'audit.prune', actor: 'cli' });
    await appendEntries(reopened, 1);
    expect(await verifyAuditChain(reopened.audit)).toMatchObject({
      ok: true,
      entries: 5,
      startedAfterSeq: 4,
    });
    await reopened.close();

    await site.tamper('DELETE FROM audit_log WHERE seq = 5');
    expect((await cli(site, ['verify'])).code).toBe(1);
  });
});

describe('audit prune', () => {
  it('refuses a retention shorter than six months', async () => {
    const [sqlite] = kinds;
    const site = await sqlite!.site(dir.path);
    onTestFinished(() => site.dispose());
    await expect(cli(site, ['prune', '--retention-days', '90'])).rejects.toThrow(/at least 183/);
  });
});

describe('audited operations through the API', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await makeHarness(dir.path);
  });
  afterEach(() => h.close());

  it('records who did what, where and when — one entry per import, with counts and no number', async () => {
    const campaign = await createCampaign(h);
    const numbers = [chineseMobile(11), chineseMobile(12), chineseMobile(11), 'garbage'];
    const batch = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/tasks:batch`,
      payload: { tasks: numbers.map((number) => ({ number })) },
    });
    expect(batch.statusCode).toBe(207);
    const taskId = batch.json().results[0].id as string;
    await h.call({ method: 'POST', url: `/v1/tasks/${taskId}/cancel` });
    const key = await h.call({
      method: 'POST',
      url: '/v1/api-keys',
      payload: { name: 'ops', role: 'operator' },
    });
    await h.call({ method: 'DELETE', url: `/v1/api-keys/${key.json().id}` });
    await h.call({
      method: 'POST',
      url: '/v1/erasures',
      payload: { by: 'number', number: chineseMobile(12) },
    });

    const audit = await h.call({ method: 'GET', url: '/v1/audit' });
    expect(audit.statusCode).toBe(200);
    const entries = audit.json().items as Array<Record<string, unknown>>;
    expect(entries.map((e) => e.action)).toEqual([
      'campaign.create',
      'tasks.import',
      'task.cancel',
      'api_key.create',
      'api_key.revoke',
      'erasure.number',
    ]);
    expect(entries[1]).toMatchObject({
      actor: 'bootstrap:acme',
      tenantId: 'acme',
      sourceIp: '127.0.0.1',
      target: `campaign:${campaign.id}`,
      after: { received: 4, created: 2, duplicate: 1, invalid: 1 },
    });
    expect(entries[2]).toMatchObject({ before: { status: 'queued' }, after: { status: 'cancelled' } });
    expect(entries[5]).toMatchObject({ target: 'number', after: { tasks: 1, suppressed: 0 } });
    expect(entries[0]!.at).toBe(new Date(h.clock.now).toISOString());
    expect(audit.body).not.toMatch(/3800000011|3800000012/);
    // the secret is never audited, only the key's metadata
    expect(audit.body).not.toContain(key.json().key);
    expect((await verifyAuditChain(h.store.audit)).ok).toBe(true);
    // refused requests leave no entry
    await h.call({ method: 'POST', url: '/v1/campaigns', key: `${ACME_KEY}-wrong`, payload: { name: 'x' } });
    expect((await h.store.audit.head())?.seq).toBe(6);
  });

  it('pages by sequence number and shows each tenant only its own entries', async () => {
    for (let i = 0; i < 3; i++) await createCampaign(h, { name: `a${i}` });
    await createCampaign(h, { name: 'theirs' }, OTHER_KEY);
    const auditor = (
      await h.call({ method: 'POST', url: '/v1/api-keys', payload: { name: 'aud', role: 'auditor' } })
    ).json().key as string;
    const first = await h.call({ method: 'GET', url: '/v1/audit?limit=2', key: auditor });
    expect(first.json().items.map((e: { seq: number }) => e.seq)).toEqual([1, 2]);
    const rest = await h.call({
      method: 'GET',
      url: `/v1/audit?afterSeq=${first.json().nextAfterSeq}`,
      key: auditor,
    });
    expect(rest.json()).toMatchObject({ nextAfterSeq: null });
    const seen = [...first.json().items, ...rest.json().items] as Array<{ tenantId: string; action: string }>;
    expect(seen.map((e) => e.action)).toEqual([
      'campaign.create',
      'campaign.create',
      'campaign.create',
      'api_key.create',
    ]);
    expect(seen.every((e) => e.tenantId === 'acme')).toBe(true);
    // a platform admin reads the whole log, or one tenant's
    expect((await h.call({ method: 'GET', url: '/v1/audit' })).json().items).toHaveLength(5);
    const theirs = await h.call({ method: 'GET', url: '/v1/audit?tenantId=other' });
    expect(theirs.json().items.map((e: { tenantId: string }) => e.tenantId)).toEqual(['other']);
  });
});
