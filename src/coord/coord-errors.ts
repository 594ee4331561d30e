/**
 * Typed errors of the coordination layer. Each has a fixed `name` and a stable `code`; callers
 * branch on the class or the code, never on the message.
 */

export type CoordErrorCode =
  | 'COORD_TIMEOUT'
  | 'COORD_REMOTE'
  | 'COORD_CLOSED'
  | 'COORD_INVALID_INPUT'
  | 'COORD_PROTOCOL';

export abstract class CoordError extends Error {
  abstract readonly code: CoordErrorCode;
}

/** A request got no reply within its deadline (nobody serves the stream, or the server is slow). */
export class CoordTimeoutError extends CoordError {
  override readonly name = 'CoordTimeoutError';
  readonly code = 'COORD_TIMEOUT' as const;
}

/** The server's handler threw; `remoteName` is the name of the error it threw. */
export class CoordRemoteError extends CoordError {
  override readonly name = 'CoordRemoteError';
  readonly code = 'COORD_REMOTE' as const;
  readonly remoteName: string;
  constructor(remoteName: string, message: string) {
    super(message);
    this.remoteName = remoteName;
  }
}

/** The bus or coordination was closed. */
export class CoordClosedError extends CoordError {
  override readonly name = 'CoordClosedError';
  readonly code = 'COORD_CLOSED' as const;
}

/** An argument that cannot be used (an empty id, a non-positive ttl, a message JSON cannot carry). */
export class CoordInvalidInputError extends CoordError {
  override readonly name = 'CoordInvalidInputError';
  readonly code = 'COORD_INVALID_INPUT' as const;
}

/** The backend answered something this code does not expect (a script out of step with its caller). */
export class CoordProtocolError extends CoordError {
  override readonly name = 'CoordProtocolError';
  readonly code = 'COORD_PROTOCOL' as const;
}

export function requireId(what: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0)
    throw new CoordInvalidInputError(`${what} must be a non-empty string`);
}

/** TTLs travel as whole milliseconds (Lua formats them with %d). */
export function requireTtlMs(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new CoordInvalidInputError(`ttlMs must be > 0, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}

export function requireToken(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new CoordInvalidInputError(`${what} must be a non-negative integer, got ${value}`);
}
