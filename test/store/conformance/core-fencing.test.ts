import { describe, expect, it } from 'vitest';
import { FencedError, type FenceToken, type Store } from '../../../src/store/contract.js';
import { storeKinds } from '../../support/stores.js';
import { claimOf, freshStorePerTest, NOW, seed, task } from './core-fixtures.js';

/** Dispatch fencing: a claim is accepted only under the newest leadership token of its scope. */
const kinds = await storeKinds();

const SCOPE = 'scheduler';

describe.each(kinds.map((kind) => [kind.name, kind] as const))('%s: dispatch fencing', (_name, kind) => {
  const world = freshStorePerTest(kind);

  it('refuses a claim under an older token with FencedError, and writes nothing of it', async () => {
    const { store } = world;
    const [a, b] = [task('a'), task('b')];
    await store.tasks.insertMany([a, b], { skipDuplicates: false, nowMs: NOW });
    expect(await store.dispatch.currentFence(SCOPE)).toBe(0);
    expect(await store.dispatch.claim([claimOf(a)], NOW, { scope: SCOPE, token: 2 })).toEqual([true]);
    const stale = store.dispatch.claim([claimOf(b)], NOW, { scope: SCOPE, token: 1 });
    await expect(stale).rejects.toBeInstanceOf(FencedError);
    await expect(stale).rejects.toMatchObject({ name: 'FencedError', code: 'fenced' });
    expect(await store.tasks.get('acme', b.id)).toMatchObject({ status: 'queued', version: 1, attempts: [] });
    expect(await store.dispatch.currentFence(SCOPE)).toBe(2);
    expect(await store.dispatch.attemptsSince(0)).toEqual(new Map([['acme', 1]]));
  });

  it('accepts equal and newer tokens, keeps each scope apart, and leaves unfenced claims alone', async () => {
    const { store } = world;
    const tasks = ['a', 'b', 'c', 'd', 'e'].map((n) => task(n));
    await store.tasks.insertMany(tasks, { skipDuplicates: false, nowMs: NOW });
    const fence = (token: number, scope = SCOPE): FenceToken => ({ scope, token });
    expect(await store.dispatch.claim([claimOf(tasks[0]!)], NOW, fence(3))).toEqual([true]);
    expect(await store.dispatch.claim([claimOf(tasks[1]!)], NOW, fence(3))).toEqual([true]);
    expect(await store.dispatch.claim([claimOf(tasks[2]!)], NOW, fence(7))).toEqual([true]);
    expect(await store.dispatch.currentFence(SCOPE)).toBe(7);
    // Another scope has its own token.
    expect(await store.dispatch.claim([claimOf(tasks[3]!)], NOW, fence(1, 'region-b'))).toEqual([true]);
    expect(await store.dispatch.currentFence('region-b')).toBe(1);
    // Without a fence a claim is neither checked nor recorded.
    expect(await store.dispatch.claim([claimOf(tasks[4]!)], NOW)).toEqual([true]);
    expect(await store.dispatch.currentFence(SCOPE)).toBe(7);
    // A claim of nothing still takes leadership (a new leader announcing itself) ...
    expect(await store.dispatch.claim([], NOW, fence(9))).toEqual([]);
    expect(await store.dispatch.currentFence(SCOPE)).toBe(9);
    // ... and a refused claim of nothing leaves the token as it was.
    await expect(store.dispatch.claim([], NOW, fence(8))).rejects.toBeInstanceOf(FencedError);
    expect(await store.dispatch.currentFence(SCOPE)).toBe(9);
  });

  it('lets a deposed leader racing its successor from another process claim nothing after it', async () => {
    const { stores, dispose } = await kind.openShared(2);
    try {
      const [deposed, successor] = stores as [Store, Store];
      await seed(deposed);
      const tasks = Array.from({ length: 20 }, (_, i) => task(`race-${i}`));
      await deposed.tasks.insertMany(tasks, { skipDuplicates: false, nowMs: NOW });
      type Result = boolean | 'fenced';
      const leader = async (store: Store, token: number): Promise<Result[]> => {
        const results: Result[] = [];
        for (const t of tasks) {
          try {
            const [won] = await store.dispatch.claim([claimOf(t)], NOW, { scope: SCOPE, token });
            results.push(won!);
          } catch (error) {
            if (!(error instanceof FencedError)) throw error;
            results.push('fenced');
          }
        }
        return results;
      };
      const [old, young] = await Promise.all([leader(deposed, 1), leader(successor, 2)]);
      expect(young).not.toContain('fenced');
      // Once refused, the deposed leader stays refused: the newer token is never overwritten.
      const firstFenced = old.indexOf('fenced');
      if (firstFenced >= 0) expect(old.slice(firstFenced).every((r) => r === 'fenced')).toBe(true);
      // Every task went to exactly one leader, with exactly one attempt.
      expect(tasks.map((_, i) => [old[i], young[i]].filter((r) => r === true).length)).toEqual(
        tasks.map(() => 1),
      );
      for (const t of tasks) expect((await successor.tasks.get('acme', t.id))?.attempts).toHaveLength(1);
      expect(await deposed.dispatch.currentFence(SCOPE)).toBe(2);
      // The deposed leader, asking again, is refused for good.
      await expect(deposed.dispatch.claim([], NOW, { scope: SCOPE, token: 1 })).rejects.toBeInstanceOf(
        FencedError,
      );
    } finally {
      await dispose();
    }
  });
});
