import type { LedgerChange, LedgerState } from './cluster-contract.js';
import { CoordInvalidInputError, requireId, requireToken } from './coord-errors.js';

/**
 * Pace entries older than this are dropped on every write: no CAPS window is longer than a
 * second plus its guard, so an entry this old can never count again.
 */
export const LEDGER_PACE_HORIZON_MS = 10_000;

function requireTime(what: string, value: number): void {
  if (!Number.isFinite(value))
    throw new CoordInvalidInputError(`${what} must be a finite number, got ${value}`);
}

/** The checks both backends make before a change is applied (a bad batch is refused whole). */
export function checkChange(fence: number, change: LedgerChange, nowMs: number): void {
  requireToken('fence', fence);
  requireTime('nowMs', nowMs);
  for (const grant of change.grants) {
    requireId('leaseId', grant.leaseId);
    requireTime('expiresAtMs', grant.expiresAtMs);
    for (const key of grant.keys) requireId('key', key);
    for (const entry of grant.paced) {
      requireId('key', entry.key);
      requireTime('atMs', entry.atMs);
      requireTime('tat', entry.tat);
    }
  }
  for (const leaseId of change.released) requireId('leaseId', leaseId);
}

export function checkState(fence: number, state: LedgerState): void {
  requireToken('fence', fence);
  for (const [key, pace] of state.pace) {
    requireId('key', key);
    requireTime('tat', pace.tat);
    for (const atMs of pace.entries) requireTime('atMs', atMs);
  }
  for (const [leaseId, lease] of state.leases) {
    requireId('leaseId', leaseId);
    requireTime('expiresAtMs', lease.expiresAtMs);
    for (const key of lease.keys) requireId('key', key);
  }
}
