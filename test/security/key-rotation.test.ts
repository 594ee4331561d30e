import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { runSecurityCommand } from '../../src/cli/security-commands.js';
import { DEFAULT_RETRY_POLICY } from '../../src/domain/retry-policy.js';
import { loadOrCreateKeyFile, NumberVault } from '../../src/security/number-vault.js';
import { makeTempDir } from '../support/temp-dir.js';
import { cliStoreKinds } from './cli-stores.js';

const dir = makeTempDir();
afterAll(() => dir.remove());

const NOW = 1_800_000_000_000;
const kinds = await cliStoreKinds();

describe.each(kinds.map((kind) => [kind.name, kind] as const))('%s: keys rotate', (_name, kind) => {
  it('adds an active key and re-seals every number and switch password under it, readable with the new key file', async () => {
    const site = await kind.site(dir.path);
    onTestFinished(() => site.dispose());
    const { dataDir, env } = site;
    const keyFile = join(dataDir, 'keys.json');
    const vault = new NumberVault(loadOrCreateKeyFile(keyFile));
    const store = await site.open();
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
    const numbers = Array.from({ length: 2500 }, (_, i) => `+86138${String(i).padStart(8, '0')}`);
    await store.tasks.insertMany(
      numbers.map((number, i) => ({
        id: `t${String(i).padStart(5, '0')}`,
        tenantId: 'acme',
        campaignId: 'c1',
        numberSealed: vault.encrypt(number),
        numberIndex: vault.index(number),
        numberMasked: 'masked',
        variables: {},
        priority: 0,
        notBefore: NOW,
        expiresAt: null,
        externalRef: null,
      })),
      { skipDuplicates: false, nowMs: NOW },
    );
    await store.resources.createSwitch(
      {
        id: 'sw1',
        name: 'fs1',
        eslHost: '127.0.0.1',
        eslPort: 8021,
        eslPasswordSealed: vault.encrypt('Sw1tch-secret'),
        maxSessions: 10,
        maxCaps: 5,
        enabled: true,
      },
      NOW,
    );
    expect(await store.sealedValues.countByKeyId()).toEqual({ tasks: { k1: 2500 }, switches: { k1: 1 } });
    await store.close();

    const output: string[] = [];
    expect(
      await runSecurityCommand('keys', ['rotate', '--data-dir', dataDir], (line) => output.push(line), env),
    ).toBe(0);
    expect(output.join('\n')).toContain('active key k1 → k2; re-sealed 2500 in tasks, 1 in switches');

    const file = JSON.parse(readFileSync(keyFile, 'utf8'));
    expect(file.activeKeyId).toBe('k2');
    expect(Object.keys(file.encryptionKeys)).toEqual(['k1', 'k2']);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);

    const rotated = new NumberVault(loadOrCreateKeyFile(keyFile));
    const reopened = await site.open();
    expect(await reopened.sealedValues.countByKeyId()).toEqual({ tasks: { k2: 2500 }, switches: { k2: 1 } });
    const due = await reopened.dispatch.dueTasks('c1', NOW, 3000);
    expect(due.map((t) => rotated.decrypt(t.numberSealed)).sort()).toEqual(numbers);
    expect(rotated.decrypt((await reopened.resources.getSwitch('sw1'))!.eslPasswordSealed)).toBe(
      'Sw1tch-secret',
    );
    // blind indexes do not change: dedupe and suppressions keep working across a rotation
    expect(rotated.index(numbers[0]!)).toBe(vault.index(numbers[0]!));
    const [entry] = await reopened.audit.list({ limit: 10 });
    expect(entry).toMatchObject({ action: 'keys.rotate', actor: 'cli' });
    expect(entry!.after).not.toMatch(/Sw1tch|\+86138/);
    await reopened.close();

    // rotating again moves everything once more; nothing is left on older keys
    expect(await runSecurityCommand('keys', ['rotate', '--data-dir', dataDir], () => {}, env)).toBe(0);
    const again = await site.open();
    expect(await again.sealedValues.countByKeyId()).toEqual({ tasks: { k3: 2500 }, switches: { k3: 1 } });
    await again.close();
  });
});
