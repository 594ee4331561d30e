import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY } from '../../../src/domain/retry-policy.js';
import { NumberVault } from '../../../src/security/number-vault.js';
import type { Store } from '../../../src/store/contract.js';
import { storeKinds } from '../../support/stores.js';

/** Key rotation's store side: every sealed value re-sealed in batches, counted per key id. */
const NOW = 1_800_000_000_000;
const kinds = await storeKinds();

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const indexKey = randomBytes(32);
const before = new NumberVault({ activeKeyId: 'k1', encryptionKeys: new Map([['k1', k1]]), indexKey });
const after = new NumberVault({
  activeKeyId: 'k2',
  encryptionKeys: new Map([
    ['k1', k1],
    ['k2', k2],
  ]),
  indexKey,
});

const numbers = Array.from({ length: 23 }, (_, i) => `+86138${String(i).padStart(8, '0')}`);

describe.each(kinds.map((kind) => [kind.name, kind] as const))('%s: sealed values', (_name, kind) => {
  let store: Store;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ store, dispose } = await kind.open());
    await store.tenants.ensure({ id: 'acme', name: 'Acme' }, NOW);
    await store.campaigns.create(
      {
        id: 'c1',
        tenantId: 'acme',
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
    await store.tasks.insertMany(
      numbers.map((number, i) => ({
        id: `t${String(i).padStart(3, '0')}`,
        tenantId: 'acme',
        campaignId: 'c1',
        numberSealed: before.encrypt(number),
        numberIndex: before.index(number),
        numberMasked: 'masked',
        variables: {},
        priority: 0,
        notBefore: NOW,
        expiresAt: null,
        externalRef: null,
      })),
      { skipDuplicates: false, nowMs: NOW },
    );
    for (const id of ['sw1', 'sw2']) {
      await store.resources.createSwitch(
        {
          id,
          name: id,
          eslHost: '10.0.0.1',
          eslPort: 8021,
          eslPasswordSealed: before.encrypt(`secret-${id}`),
          maxSessions: 10,
          maxCaps: 5,
          enabled: true,
        },
        NOW,
      );
    }
  });
  afterAll(() => dispose());

  it('counts sealed values per key id and table', async () => {
    expect(await store.sealedValues.countByKeyId()).toEqual({ tasks: { k1: 23 }, switches: { k1: 2 } });
  });

  it('writes nothing for values the reseal leaves unchanged', async () => {
    const seen: string[] = [];
    const rewritten = await store.sealedValues.resealAll((sealed) => {
      seen.push(sealed);
      return sealed;
    }, 5);
    expect(rewritten).toEqual({ tasks: 0, switches: 0 });
    expect(seen).toHaveLength(25);
  });

  it('re-seals every value in batches; a second pass finds nothing left to do', async () => {
    let calls = 0;
    const rewritten = await store.sealedValues.resealAll((sealed) => {
      calls += 1;
      return after.reseal(sealed);
    }, 5);
    expect(calls).toBe(25);
    expect(rewritten).toEqual({ tasks: 23, switches: 2 });
    expect(await store.sealedValues.countByKeyId()).toEqual({ tasks: { k2: 23 }, switches: { k2: 2 } });
    const due = await store.dispatch.dueTasks('c1', NOW, 100);
    expect(due.map((t) => after.decrypt(t.numberSealed)).sort()).toEqual(numbers);
    expect(after.decrypt((await store.resources.getSwitch('sw2'))!.eslPasswordSealed)).toBe('secret-sw2');
    expect(await store.sealedValues.resealAll((sealed) => after.reseal(sealed), 5)).toEqual({
      tasks: 0,
      switches: 0,
    });
  });
});
