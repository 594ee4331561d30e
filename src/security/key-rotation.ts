import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { SealedValueRepository } from '../store/contract.js';
import { type KeyFile, keysFromKeyFile, NumberVault, VaultError } from './number-vault.js';

/**
 * Key rotation: a new data key becomes active in the key file (old keys stay, so every value
 * remains readable at every moment), then every sealed value is re-sealed under it in small
 * transactions. Safe to re-run after a crash: values already under the active key are skipped.
 * A running platform must be restarted afterwards to seal new values under the new key.
 */
export interface RotationResult {
  previousKeyId: string;
  activeKeyId: string;
  resealed: Record<string, number>;
  /** After the pass: values per key id, per table (all under the active key when done). */
  byKeyId: Record<string, Record<string, number>>;
}

function readKeyFile(path: string): KeyFile {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
  } catch (error) {
    throw new VaultError(`key file ${path} is not readable JSON`, { cause: error });
  }
}

/** The next free id in the `k<n>` series. */
function nextKeyId(existing: string[]): string {
  const highest = Math.max(0, ...existing.map((id) => Number(/^k(\d+)$/.exec(id)?.[1] ?? 0)));
  return `k${highest + 1}`;
}

/** Adds a fresh key and makes it active, replacing the file atomically (mode 0600). */
export function addActiveKey(path: string): {
  previousKeyId: string;
  activeKeyId: string;
  vault: NumberVault;
} {
  const content = readKeyFile(path);
  // Validates the file as it is before anything is written.
  keysFromKeyFile(content);
  const activeKeyId = nextKeyId(Object.keys(content.encryptionKeys));
  const next: KeyFile = {
    activeKeyId,
    encryptionKeys: { ...content.encryptionKeys, [activeKeyId]: randomBytes(32).toString('base64') },
    indexKey: content.indexKey,
  };
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temporary, path);
  chmodSync(path, 0o600);
  return { previousKeyId: content.activeKeyId, activeKeyId, vault: new NumberVault(keysFromKeyFile(next)) };
}

export async function resealEverything(
  sealedValues: SealedValueRepository,
  vault: NumberVault,
  batchSize = 1_000,
): Promise<Pick<RotationResult, 'resealed' | 'byKeyId'>> {
  const resealed = await sealedValues.resealAll((sealed) => vault.reseal(sealed), batchSize);
  return { resealed, byKeyId: await sealedValues.countByKeyId() };
}

export async function rotateKeys(
  keyFilePath: string,
  sealedValues: SealedValueRepository,
  batchSize?: number,
): Promise<RotationResult> {
  const { previousKeyId, activeKeyId, vault } = addActiveKey(keyFilePath);
  return { previousKeyId, activeKeyId, ...(await resealEverything(sealedValues, vault, batchSize)) };
}
