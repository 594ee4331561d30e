import { ConflictError } from '../contract.js';
import { isForeignKeyViolation, isUniqueViolation } from './database.js';

/**
 * The core tables have SQLite's column names and value shapes (flags as 0/1 INTEGER, JSON as
 * TEXT, BIGINT read as numbers: see migrations/postgres/001_core.sql), so both stores share one
 * set of row types and mappers.
 */
export {
  type AttemptRow,
  type CampaignRow,
  type GatewayRow,
  type LineRow,
  type SwitchRow,
  type TaskRow,
  toAttempt,
  toCampaign,
  toGateway,
  toLine,
  toSwitch,
  toTask,
} from '../sqlite/rows.js';

/** Encodes a list cursor; ids are UUIDv7, so "after this id" is "younger than this item". */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string {
  if (!cursor) return '';
  return Buffer.from(cursor, 'base64url').toString('utf8');
}

/** Translates the constraint failures of a resource write into the contract's typed errors. */
export async function guardedWrite<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isUniqueViolation(error))
      throw new ConflictError(`${what}: the name is already taken`, 'name_taken', { cause: error });
    if (isForeignKeyViolation(error)) {
      throw new ConflictError(`${what}: it refers to, or is used by, another resource`, 'resource_in_use', {
        cause: error,
      });
    }
    throw error;
  }
}
