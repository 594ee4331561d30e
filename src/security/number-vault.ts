import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Phone numbers are personal data (R1.10). At rest they exist only as
 * - ciphertext: AES-256-GCM under a key named by its id, `v1.<keyId>.<iv>.<ciphertext+tag>`
 *   (base64url), so keys can rotate without a flag day;
 * - a blind index: HMAC-SHA-256 of the E.164 form under a separate key, for lookups and dedupe
 *   without decrypting.
 * The keys live in the environment or a key file, never in the database.
 */
export interface VaultKeys {
  activeKeyId: string;
  /** key id → 32 raw bytes */
  encryptionKeys: ReadonlyMap<string, Buffer>;
  /** 32 raw bytes */
  indexKey: Buffer;
}

export class VaultError extends Error {
  override readonly name = 'VaultError';
  readonly code = 'vault_error';
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export class NumberVault {
  constructor(private readonly keys: VaultKeys) {
    if (!keys.encryptionKeys.has(keys.activeKeyId)) {
      throw new VaultError(`active key "${keys.activeKeyId}" is not among the encryption keys`);
    }
    for (const [id, key] of keys.encryptionKeys) {
      if (!KEY_ID.test(id)) throw new VaultError(`key id "${id}" must match ${KEY_ID}`);
      if (key.length !== 32) throw new VaultError(`encryption key "${id}" must be 32 bytes`);
    }
    if (keys.indexKey.length !== 32) throw new VaultError('index key must be 32 bytes');
  }

  encrypt(plaintext: string): string {
    const keyId = this.keys.activeKeyId;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.encryptionKeys.get(keyId)!, iv);
    cipher.setAAD(Buffer.from(keyId));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `v1.${keyId}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  decrypt(sealed: string): string {
    const [version, keyId, ivText, bodyText] = sealed.split('.');
    if (version !== 'v1' || !keyId || !ivText || !bodyText) throw new VaultError('not a sealed number');
    const key = this.keys.encryptionKeys.get(keyId);
    if (!key) throw new VaultError(`no key "${keyId}" to open this number`);
    const body = Buffer.from(bodyText, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivText, 'base64url'));
    decipher.setAAD(Buffer.from(keyId));
    decipher.setAuthTag(body.subarray(body.length - 16));
    try {
      return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString(
        'utf8',
      );
    } catch (error) {
      throw new VaultError('sealed number failed authentication', { cause: error });
    }
  }

  /** The id of the key that sealed a value (`v1.<keyId>.…`). */
  keyIdOf(sealed: string): string {
    const [version, keyId] = sealed.split('.');
    if (version !== 'v1' || !keyId) throw new VaultError('not a sealed value');
    return keyId;
  }

  get activeKeyId(): string {
    return this.keys.activeKeyId;
  }

  /** Re-seals under the active key; a value already sealed by it comes back unchanged. */
  reseal(sealed: string): string {
    return this.keyIdOf(sealed) === this.keys.activeKeyId ? sealed : this.encrypt(this.decrypt(sealed));
  }

  /** Keyed blind index of an E.164 number. */
  index(e164: string): string {
    return createHmac('sha256', this.keys.indexKey).update(e164).digest('base64url');
  }
}

export interface KeyFile {
  activeKeyId: string;
  encryptionKeys: Record<string, string>;
  indexKey: string;
}

function decodeKey(text: string, what: string): Buffer {
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32) throw new VaultError(`${what} must be 32 bytes, base64-encoded`);
  return key;
}

export function keysFromKeyFile(content: KeyFile): VaultKeys {
  return {
    activeKeyId: content.activeKeyId,
    encryptionKeys: new Map(
      Object.entries(content.encryptionKeys).map(([id, text]) => [id, decodeKey(text, `key "${id}"`)]),
    ),
    indexKey: decodeKey(content.indexKey, 'index key'),
  };
}

/**
 * Loads the key file, creating it (mode 0600) with fresh random keys on first use: the
 * embedded default works out of the box and still never stores a number in clear.
 */
export function loadOrCreateKeyFile(path: string): VaultKeys {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const fresh: KeyFile = {
      activeKeyId: 'k1',
      encryptionKeys: { k1: randomBytes(32).toString('base64') },
      indexKey: randomBytes(32).toString('base64'),
    };
    writeFileSync(path, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  }
  let content: KeyFile;
  try {
    content = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
  } catch (error) {
    throw new VaultError(`key file ${path} is not valid JSON`, { cause: error });
  }
  chmodSync(path, 0o600);
  if (typeof content.activeKeyId !== 'string' || typeof content.encryptionKeys !== 'object') {
    throw new VaultError(`key file ${path} needs activeKeyId, encryptionKeys and indexKey`);
  }
  return keysFromKeyFile(content);
}

/** `SWITCHBOARD_DATA_KEYS` format: `k1:<base64>,k2:<base64>` (the first is active); index key separate. */
export function keysFromEnvironment(dataKeys: string, indexKey: string): VaultKeys {
  const entries = dataKeys.split(',').map((part) => {
    const [id, text] = part.split(':');
    if (!id || !text) throw new VaultError('SWITCHBOARD_DATA_KEYS entries look like "k1:<base64 32 bytes>"');
    return [id.trim(), decodeKey(text.trim(), `key "${id}"`)] as const;
  });
  return {
    activeKeyId: entries[0]![0],
    encryptionKeys: new Map(entries),
    indexKey: decodeKey(indexKey, 'SWITCHBOARD_INDEX_KEY'),
  };
}
