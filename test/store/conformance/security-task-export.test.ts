import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY } from '../../../src/domain/retry-policy.js';
import type { Store } from '../../../src/store/contract.js';
import { storeKinds } from '../../support/stores.js';

/** The audited export's reads: a campaign's tasks counted, then paged in id order, per tenant. */
const NOW = 1_800_000_000_000;
const kinds = await storeKinds();

describe.each(kinds.map((kind) => [kind.name, kind] as const))('%s: task export', (_name, kind) => {
  let store: Store;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ store, dispose } = await kind.open());
    for (const tenantId of ['acme', 'other']) {
      await store.tenants.ensure({ id: tenantId, name: tenantId }, NOW);
      await store.campaigns.create(
        {
          id: `${tenantId}-c`,
          tenantId,
          name: 'c',
          weight: 1,
          lineIds: [],
          defaultRegion: 'CN',
          callerId: null,
          retryPolicy: DEFAULT_RETRY_POLICY,
          ringTimeoutSec: 30,
          maxCallDurationSec: 60,
          caps: null,
          maxConcurrent: null,
        },
        NOW,
      );
    }
    // ids whose byte order differs from a locale's: upper case before lower, '-' before digits
    const ids = ['t-b', 'T1', 't10', 't2', 'ta', 't1'];
    await store.tasks.insertMany(
      ids.map((id, i) => ({
        id,
        tenantId: 'acme',
        campaignId: 'acme-c',
        numberSealed: `v1.k1.iv.sealed${i}`,
        numberIndex: `index${i}`,
        numberMasked: '+8613*******0',
        variables: {},
        priority: 0,
        notBefore: NOW,
        expiresAt: null,
        externalRef: i === 0 ? '=ref' : null,
      })),
      { skipDuplicates: false, nowMs: NOW },
    );
    await store.tasks.insertMany(
      [
        {
          id: 'o1',
          tenantId: 'other',
          campaignId: 'other-c',
          numberSealed: 'v1.k1.iv.theirs',
          numberIndex: 'theirs',
          numberMasked: '+8613*******9',
          variables: {},
          priority: 0,
          notBefore: NOW,
          expiresAt: null,
          externalRef: null,
        },
      ],
      { skipDuplicates: false, nowMs: NOW },
    );
  });
  afterAll(() => dispose());

  it('counts a campaign’s tasks within the tenant only', async () => {
    expect(await store.taskExport.count('acme', 'acme-c')).toBe(6);
    expect(await store.taskExport.count('other', 'acme-c')).toBe(0);
    expect(await store.taskExport.count('acme', 'nope')).toBe(0);
  });

  it('pages in byte order of id after a cursor, with the number still sealed', async () => {
    const first = await store.taskExport.page('acme', 'acme-c', '', 4);
    expect(first.map((t) => t.id)).toEqual(['T1', 't-b', 't1', 't10']);
    expect(first[1]).toEqual({
      id: 't-b',
      numberSealed: 'v1.k1.iv.sealed0',
      status: 'queued',
      outcome: null,
      attemptCount: 0,
      externalRef: '=ref',
    });
    const rest = await store.taskExport.page('acme', 'acme-c', 't10', 4);
    expect(rest.map((t) => t.id)).toEqual(['t2', 'ta']);
    expect(await store.taskExport.page('acme', 'acme-c', 'ta', 4)).toEqual([]);
    expect(await store.taskExport.page('other', 'acme-c', '', 10)).toEqual([]);
  });
});
