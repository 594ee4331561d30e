import { describe, expect, it } from 'vitest';
import { storeKinds } from '../../support/stores.js';
import { claimOf, NOW, seed, task } from './core-fixtures.js';

/** Migrations are safe to run from several processes at once, and the database is shared by them. */
const kinds = await storeKinds();

describe.each(kinds.map((kind) => [kind.name, kind] as const))('%s: migrations', (_name, kind) => {
  it('migrates once when several processes open the same database at the same time', async () => {
    const { stores, dispose } = await kind.openShared(3, { atOnce: true });
    try {
      const [first, second, third] = stores;
      await seed(first!);
      const t = task('shared');
      await second!.tasks.insertMany([t], { skipDuplicates: false, nowMs: NOW });
      expect(await third!.dispatch.claim([claimOf(t)], NOW, { scope: 'scheduler', token: 1 })).toEqual([
        true,
      ]);
      for (const store of stores) {
        expect(await store.campaigns.get('acme', 'c1')).toMatchObject({ lineIds: ['l1'] });
        expect((await store.tasks.get('acme', t.id))?.status).toBe('dialing');
        expect(await store.dispatch.currentFence('scheduler')).toBe(1);
      }
    } finally {
      await dispose();
    }
  });

  it('opens a migrated database again, and each process sees what another wrote', async () => {
    const { stores, dispose } = await kind.openShared(2);
    try {
      await seed(stores[0]!);
      expect(await stores[1]!.campaigns.listActive()).toHaveLength(1);
    } finally {
      await dispose();
    }
  });
});
