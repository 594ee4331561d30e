import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, type Store } from '../../../src/store/contract.js';
import { storeKinds } from '../../support/stores.js';

/** Tenants with their limits and destination policy: the same behaviour on every store. */
const NOW = 1_800_000_000_000;
const kinds = await storeKinds();

const OPEN_POLICY = { allowPrefixes: [], denyPrefixes: [], allowPremiumRate: false };
const NO_LIMITS = { maxCaps: null, maxConcurrent: null, maxDailyAttempts: null };

describe.each(kinds.map((kind) => [kind.name, kind] as const))('%s: tenant profiles', (_name, kind) => {
  let store: Store;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ store, dispose } = await kind.open());
  });
  afterAll(() => dispose());

  it('creates a profile with its limits and policy; a taken id is tenant_exists', async () => {
    const created = await store.tenantProfiles.create(
      {
        id: 'globex',
        name: 'Globex',
        weight: 3,
        limits: { maxCaps: 20, maxConcurrent: 100, maxDailyAttempts: 50_000 },
        destinations: { allowPrefixes: ['+86', '+8613'], denyPrefixes: ['+86900'], allowPremiumRate: true },
      },
      NOW,
    );
    expect(created).toEqual({
      id: 'globex',
      name: 'Globex',
      createdAt: NOW,
      weight: 3,
      limits: { maxCaps: 20, maxConcurrent: 100, maxDailyAttempts: 50_000 },
      destinations: { allowPrefixes: ['+86', '+8613'], denyPrefixes: ['+86900'], allowPremiumRate: true },
      updatedAt: NOW,
      version: 1,
    });
    expect(await store.tenantProfiles.get('globex')).toEqual(created);
    const taken = store.tenantProfiles.create(
      { id: 'globex', name: 'Again', limits: NO_LIMITS, destinations: OPEN_POLICY },
      NOW,
    );
    await expect(taken).rejects.toBeInstanceOf(ConflictError);
    await expect(taken).rejects.toMatchObject({ code: 'tenant_exists' });
  });

  it('serves tenants made by tenants.ensure with defaults, and lists all in id order', async () => {
    await store.tenants.ensure({ id: 'acme', name: 'Acme' }, NOW - 5);
    await store.tenantProfiles.create(
      { id: 'Zeta', name: 'Zeta', limits: NO_LIMITS, destinations: OPEN_POLICY },
      NOW,
    );
    expect(await store.tenantProfiles.get('acme')).toEqual({
      id: 'acme',
      name: 'Acme',
      createdAt: NOW - 5,
      weight: 1,
      limits: NO_LIMITS,
      destinations: OPEN_POLICY,
      updatedAt: NOW - 5,
      version: 1,
    });
    expect(await store.tenantProfiles.get('nobody')).toBeUndefined();
    // byte order: upper case first
    expect((await store.tenantProfiles.list()).map((t) => t.id)).toEqual(['Zeta', 'acme', 'globex']);
  });

  it('updates a patch over the current values, checking the version when given', async () => {
    const updated = await store.tenantProfiles.update(
      'globex',
      {
        limits: { maxCaps: 5, maxConcurrent: 100, maxDailyAttempts: null },
        destinations: { ...OPEN_POLICY },
      },
      1,
      NOW + 10,
    );
    expect(updated).toMatchObject({
      name: 'Globex',
      weight: 3,
      limits: { maxCaps: 5, maxConcurrent: 100, maxDailyAttempts: null },
      destinations: OPEN_POLICY,
      updatedAt: NOW + 10,
      version: 2,
      createdAt: NOW,
    });
    const stale = store.tenantProfiles.update('globex', { name: 'Stale' }, 1, NOW + 20);
    await expect(stale).rejects.toBeInstanceOf(ConflictError);
    await expect(stale).rejects.toMatchObject({ code: 'version_conflict' });
    expect(
      await store.tenantProfiles.update('globex', { name: 'Globex Inc' }, undefined, NOW + 30),
    ).toMatchObject({ name: 'Globex Inc', version: 3, limits: { maxCaps: 5 } });
    await expect(store.tenantProfiles.update('nobody', { name: 'x' }, undefined, NOW)).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
