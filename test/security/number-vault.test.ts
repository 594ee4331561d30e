import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  keysFromEnvironment,
  loadOrCreateKeyFile,
  NumberVault,
  VaultError,
} from '../../src/security/number-vault.js';
import { makeTempDir } from '../support/temp-dir.js';

const dir = makeTempDir();
afterAll(() => dir.remove());

describe('number vault', () => {
  it('seals, opens, and indexes; the sealed form never contains the number', () => {
    const vault = new NumberVault(loadOrCreateKeyFile(join(dir.path, 'keys.json')));
    const sealed = vault.encrypt('+8613800000001');
    expect(sealed).not.toContain('13800000001');
    expect(sealed).not.toBe(vault.encrypt('+8613800000001')); // fresh IV each time
    expect(vault.decrypt(sealed)).toBe('+8613800000001');
    expect(vault.index('+8613800000001')).toBe(vault.index('+8613800000001'));
    expect(vault.index('+8613800000001')).not.toBe(vault.index('+8613800000002'));
  });

  it('creates its key file once, private to its owner', () => {
    const path = join(dir.path, 'k2', 'keys.json');
    const first = loadOrCreateKeyFile(path);
    const again = loadOrCreateKeyFile(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(again.indexKey.equals(first.indexKey)).toBe(true);
    expect(readFileSync(path, 'utf8')).toContain('activeKeyId');
  });

  it('opens numbers sealed under an older key after rotation, and refuses tampering', () => {
    const k1 = randomBytes(32).toString('base64');
    const k2 = randomBytes(32).toString('base64');
    const index = randomBytes(32).toString('base64');
    const old = new NumberVault(keysFromEnvironment(`k1:${k1}`, index));
    const rotated = new NumberVault(keysFromEnvironment(`k2:${k2},k1:${k1}`, index));
    const sealed = old.encrypt('+14155550100');
    expect(rotated.decrypt(sealed)).toBe('+14155550100');
    expect(rotated.encrypt('+14155550100').startsWith('v1.k2.')).toBe(true);
    const tampered = `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}A`;
    expect(() => rotated.decrypt(tampered)).toThrow(VaultError);
    expect(
      () => new NumberVault(keysFromEnvironment(`k1:${Buffer.alloc(5).toString('base64')}`, index)),
    ).toThrow(VaultError);
  });
});
