import { randomBytes } from 'node:crypto';
import { type Algorithm, hash, verify } from '@node-rs/argon2';

/**
 * Console passwords: argon2id (RFC 9106) with OWASP's minimum parameters (19 MiB, 2 passes,
 * 1 lane) — about 20–40 ms per hash here, which bounds online guessing together with the login
 * throttle, and offline cracking of a stolen database. The PHC string carries its own
 * parameters and salt, so raising them later leaves existing hashes verifiable.
 */
const ARGON2ID = 2 as Algorithm;
const PARAMETERS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN_LENGTH = 12;
/** argon2 cost does not grow with length, but a megabyte "password" is still refused early. */
export const PASSWORD_MAX_LENGTH = 128;

export class PasswordError extends Error {
  override readonly name = 'PasswordError';
  readonly code = 'password_error';
}

export async function hashPassword(password: string): Promise<string> {
  return hash(password, PARAMETERS);
}

/** False for a wrong password; throws only for a hash that is not a valid PHC string. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch (error) {
    throw new PasswordError('stored password hash is not a valid argon2 PHC string', { cause: error });
  }
}

/**
 * A hash of nothing anyone knows, verified when the e-mail matches no user, so that an unknown
 * account costs the same time as a wrong password and response times do not reveal which
 * e-mails exist. Made once per process, on first use.
 */
export class DummyPassword {
  private hashed: Promise<string> | undefined;

  async verify(password: string): Promise<false> {
    this.hashed ??= hashPassword(randomBytes(32).toString('base64url'));
    await verifyPassword(await this.hashed, password);
    return false;
  }
}
