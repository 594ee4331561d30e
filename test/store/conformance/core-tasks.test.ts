import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../../src/store/contract.js';
import { storeKinds } from '../../support/stores.js';
import { busyEnding, campaignInput, claimOf, freshStorePerTest, NOW, task } from './core-fixtures.js';

/** Tasks: intake with duplicate skipping, listing, cancelling — the same on every store. */
const kinds = await storeKinds();

describe.each(kinds.map((kind) => [kind.name, kind] as const))('%s: core tasks', (_name, kind) => {
  const world = freshStorePerTest(kind);

  it('skips duplicates of open tasks, within the batch and against the table', async () => {
    const { store } = world;
    const first = await store.tasks.insertMany([task('a'), task('b'), task('a')], {
      skipDuplicates: true,
      nowMs: NOW,
    });
    expect(first.duplicates).toEqual([2]);
    const second = await store.tasks.insertMany([task('b'), task('c')], { skipDuplicates: true, nowMs: NOW });
    expect(second.duplicates).toEqual([0]);
    const page = await store.tasks.list('acme', { campaignId: 'c1' }, { limit: 10 });
    expect(page.items).toHaveLength(3);
  });

  it('counts only open tasks (queued or dialing) of the same campaign as duplicates', async () => {
    const { store } = world;
    await store.campaigns.create(campaignInput('c2', 'acme'), NOW);
    const [queued, dialing, cancelled] = [task('q'), task('d'), task('x')];
    await store.tasks.insertMany([queued, dialing, cancelled], { skipDuplicates: false, nowMs: NOW });
    await store.dispatch.claim([claimOf(dialing)], NOW);
    await store.tasks.cancel('acme', cancelled.id, NOW);
    const result = await store.tasks.insertMany(
      [task('x'), task('q'), task('d'), task('q', { campaignId: 'c2' }), task('x'), task('new')],
      { skipDuplicates: true, nowMs: NOW },
    );
    expect(result.duplicates).toEqual([1, 2, 4]);
    // Without skipping, everything goes in.
    expect(
      await store.tasks.insertMany([task('q'), task('q')], { skipDuplicates: false, nowMs: NOW }),
    ).toEqual({ duplicates: [] });
    expect((await store.tasks.list('acme', { campaignId: 'c1' }, { limit: 50 })).items).toHaveLength(7);
    expect(await store.tasks.insertMany([], { skipDuplicates: true, nowMs: NOW })).toEqual({
      duplicates: [],
    });
  });

  it('stores a task as given and reads it back only under its tenant', async () => {
    const { store } = world;
    const t = task('a', {
      variables: { name: 'Zoë', plan: 'gold' },
      priority: 7,
      notBefore: NOW + 10,
      expiresAt: NOW + 86_400_000,
      externalRef: 'crm-42',
    });
    await store.tasks.insertMany([t], { skipDuplicates: false, nowMs: NOW - 1 });
    expect(await store.tasks.get('acme', t.id)).toEqual({
      id: t.id,
      tenantId: 'acme',
      campaignId: 'c1',
      numberMasked: '+86***',
      variables: { name: 'Zoë', plan: 'gold' },
      priority: 7,
      notBefore: NOW + 10,
      expiresAt: NOW + 86_400_000,
      status: 'queued',
      version: 1,
      attemptCount: 0,
      notDialedCount: 0,
      outcome: null,
      externalRef: 'crm-42',
      createdAt: NOW - 1,
      updatedAt: NOW - 1,
      attempts: [],
    });
    expect(await store.tasks.get('other', t.id)).toBeUndefined();
  });

  it('lists with filters on campaign, status and outcome, in id order', async () => {
    const { store } = world;
    await store.campaigns.create(campaignInput('c2', 'acme'), NOW);
    const [a, b, c, d] = [task('a'), task('b'), task('c'), task('d', { campaignId: 'c2' })];
    await store.tasks.insertMany([d, c, b, a], { skipDuplicates: false, nowMs: NOW });
    const claim = claimOf(b);
    await store.dispatch.claim([claim], NOW);
    await store.dispatch.finish(
      [{ ...busyEnding(claim, NOW + 1), next: { status: 'completed', outcome: 'busy' } }],
      NOW + 1,
    );
    await store.tasks.cancel('acme', c.id, NOW);
    const ids = async (filter: Parameters<typeof store.tasks.list>[1]) =>
      (await store.tasks.list('acme', filter, { limit: 10 })).items.map((t) => t.id);
    expect(await ids({})).toEqual([a.id, b.id, c.id, d.id]);
    expect(await ids({ campaignId: 'c1' })).toEqual([a.id, b.id, c.id]);
    expect(await ids({ status: 'queued' })).toEqual([a.id, d.id]);
    expect(await ids({ campaignId: 'c1', status: 'cancelled' })).toEqual([c.id]);
    expect(await ids({ outcome: 'busy' })).toEqual([b.id]);
    expect(await ids({ campaignId: 'c2', outcome: 'busy' })).toEqual([]);
  });

  it('cancels only queued tasks, and a cancelled campaign takes its queue with it', async () => {
    const { store } = world;
    const a = task('a');
    const b = task('b');
    await store.tasks.insertMany([a, b], { skipDuplicates: false, nowMs: NOW });
    await store.dispatch.claim([claimOf(b)], NOW);
    await expect(store.tasks.cancel('acme', b.id, NOW)).rejects.toBeInstanceOf(ConflictError);
    await expect(store.tasks.cancel('acme', b.id, NOW)).rejects.toMatchObject({
      code: 'task_not_cancellable',
    });
    await expect(store.tasks.cancel('other', a.id, NOW)).rejects.toBeInstanceOf(NotFoundError);
    await store.campaigns.setStatus('acme', 'c1', 'cancelled', NOW);
    expect((await store.tasks.get('acme', a.id))?.status).toBe('cancelled');
    expect((await store.tasks.get('acme', b.id))?.status).toBe('dialing');
    await expect(store.campaigns.setStatus('acme', 'c1', 'active', NOW)).rejects.toMatchObject({
      code: 'campaign_cancelled',
    });
  });

  it('cancels a queued task, returning it with its new version', async () => {
    const { store } = world;
    const a = task('a');
    await store.tasks.insertMany([a], { skipDuplicates: false, nowMs: NOW });
    expect(await store.tasks.cancel('acme', a.id, NOW + 5)).toMatchObject({
      id: a.id,
      status: 'cancelled',
      version: 2,
      updatedAt: NOW + 5,
    });
    await expect(store.tasks.cancel('acme', 'no-such-task', NOW)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses to delete a line a campaign uses, and paginates with a cursor', async () => {
    const { store } = world;
    await expect(store.resources.deleteLine('l1')).rejects.toMatchObject({ code: 'resource_in_use' });
    await store.tasks.insertMany(
      Array.from({ length: 25 }, (_, i) => task(`p${i}`)),
      { skipDuplicates: false, nowMs: NOW },
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.tasks.list('acme', {}, { limit: 10, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(new Set(seen).size).toBe(25);
    expect(seen).toEqual([...seen].sort());
    expect((await store.tasks.list('other', {}, { limit: 10 })).items).toEqual([]);
  });
});
