import {
  type PaceGrant,
  type PaceRule,
  type PaceState,
  paceAllowedAt,
  paceGrant,
} from '../scheduler/gcra.js';
import type { LedgerState } from './cluster-contract.js';
import type { DialSlots, SlotLevel, SlotResult } from './contract.js';

interface Lease {
  keys: readonly string[];
  expiresAtMs: number;
  /** This call's entries in the pace logs of its levels, moved to the send time by markSent. */
  grants: Array<{ state: PaceState; grant: PaceGrant }>;
  sent: boolean;
}

/** Dial slots for one process (the embedded default). */
export class MemoryDialSlots implements DialSlots {
  private readonly pace = new Map<string, PaceState>();
  private readonly concurrent = new Map<string, number>();
  private readonly leases = new Map<string, Lease>();

  /**
   * @param capsGuardMs widens each CAPS window beyond one second (see gcra.ts)
   * @param capsToleranceMs how late a caller may be and still catch up on its pace
   */
  constructor(
    private readonly capsGuardMs: number,
    private readonly capsToleranceMs = 0,
    /**
     * The latest a granted call can reach its switch after the grant (cluster: the age past which
     * a worker refuses an order). Until `markSent` says when it really went, a grant counts in
     * the pace log at that latest time, so a report that comes late (a worker paused, a slow bus)
     * can never let the window hold more than its CAPS. 0: sent at once (one process).
     */
    private readonly unsentBoundMs = 0,
  ) {}

  private rule(capsPerSecond: number): PaceRule {
    return { capsPerSecond, windowMs: 1000 + this.capsGuardMs, toleranceMs: this.capsToleranceMs };
  }

  acquire(leaseId: string, levels: readonly SlotLevel[], nowMs: number, ttlMs: number): SlotResult {
    if (this.leases.has(leaseId)) throw new Error(`lease ${leaseId} is already held`);
    // Check every level first: nothing is taken unless everything can be.
    for (const level of levels) {
      if (level.capsPerSecond !== null) {
        const allowedAt = paceAllowedAt(this.pace.get(level.key), this.rule(level.capsPerSecond), nowMs);
        if (nowMs < allowedAt)
          return { granted: false, denial: { key: level.key, reason: 'caps', retryAtMs: allowedAt } };
      }
      if (level.maxConcurrent !== null && this.inFlight(level.key) >= level.maxConcurrent) {
        return { granted: false, denial: { key: level.key, reason: 'concurrency', retryAtMs: null } };
      }
    }
    const grants: Lease['grants'] = [];
    for (const level of levels) {
      if (level.capsPerSecond !== null) {
        const { state, grant } = paceGrant(this.pace.get(level.key), this.rule(level.capsPerSecond), nowMs);
        this.pace.set(level.key, state);
        if (this.unsentBoundMs > 0) moveGrant(state, grant, nowMs + this.unsentBoundMs);
        grants.push({ state, grant });
      }
    }
    this.hold(leaseId, levels, nowMs + ttlMs, grants);
    return { granted: true };
  }

  adopt(leaseId: string, levels: readonly SlotLevel[], nowMs: number, ttlMs: number): void {
    if (!this.leases.has(leaseId)) this.hold(leaseId, levels, nowMs + ttlMs, []);
  }

  private hold(
    leaseId: string,
    levels: readonly SlotLevel[],
    expiresAtMs: number,
    grants: Lease['grants'],
  ): void {
    const keys = levels.map((level) => level.key);
    for (const key of keys) this.concurrent.set(key, this.inFlight(key) + 1);
    this.leases.set(leaseId, { keys, expiresAtMs, grants, sent: false });
  }

  markSent(leaseId: string, atMs: number): void {
    const lease = this.leases.get(leaseId);
    if (!lease || lease.sent) return;
    lease.sent = true;
    for (const { state, grant } of lease.grants) {
      // With a bound the grant sits at its latest possible time; otherwise at its decision time.
      moveGrant(state, grant, this.unsentBoundMs > 0 ? atMs : Math.max(grant.atMs, atMs));
    }
  }

  release(leaseId: string): boolean {
    const lease = this.leases.get(leaseId);
    if (!lease) return false;
    this.leases.delete(leaseId);
    for (const key of lease.keys) {
      const left = this.inFlight(key) - 1;
      if (left > 0) this.concurrent.set(key, left);
      else this.concurrent.delete(key);
    }
    return true;
  }

  expire(nowMs: number): string[] {
    const expired: string[] = [];
    for (const [id, lease] of this.leases) if (lease.expiresAtMs <= nowMs) expired.push(id);
    for (const id of expired) this.release(id);
    return expired;
  }

  inFlight(key: string): number {
    return this.concurrent.get(key) ?? 0;
  }

  paceAllowedAt(key: string, capsPerSecond: number, nowMs: number): number {
    return paceAllowedAt(this.pace.get(key), this.rule(capsPerSecond), nowMs);
  }

  /** A level's pace schedule (GCRA theoretical arrival time), if it ever paced a call. */
  paceTat(key: string): number | undefined {
    return this.pace.get(key)?.tat;
  }

  /**
   * Adds a predecessor's pace (from the slot ledger) to this one: its entries count in the
   * window like this process's own grants, and its schedule holds where it was.
   */
  restorePace(pace: LedgerState['pace']): void {
    for (const [key, { tat, entries }] of pace) {
      const state = this.pace.get(key) ?? { tat, grants: [], head: 0 };
      state.tat = Math.max(state.tat, tat);
      const merged = [...state.grants.slice(state.head), ...entries.map((atMs) => ({ atMs }))];
      merged.sort((a, b) => a.atMs - b.atMs);
      state.grants = merged;
      state.head = 0;
      this.pace.set(key, state);
    }
  }

  /** What this process holds now, for the slot ledger: pace entries still in the window, and every lease. */
  exportState(nowMs: number): LedgerState {
    const windowStart = nowMs - this.rule(1).windowMs;
    const pace: LedgerState['pace'] = new Map();
    for (const [key, state] of this.pace) {
      const entries: number[] = [];
      for (let i = state.head; i < state.grants.length; i++) {
        const atMs = state.grants[i]!.atMs;
        if (atMs > windowStart) entries.push(atMs);
      }
      if (entries.length > 0 || state.tat > windowStart) pace.set(key, { tat: state.tat, entries });
    }
    const leases: LedgerState['leases'] = new Map();
    for (const [id, lease] of this.leases)
      leases.set(id, { keys: [...lease.keys], expiresAtMs: lease.expiresAtMs });
    return { pace, leases };
  }
}

/**
 * Moves a grant to `atMs`, keeping the log in time order (gcra.ts reads it as sorted: the window
 * is full until the N-th newest entry leaves it). Usually a step or two from the end.
 */
function moveGrant(state: PaceState, grant: PaceGrant, atMs: number): void {
  const { grants } = state;
  const index = grants.lastIndexOf(grant);
  if (index < state.head) return; // already out of the window
  grants.splice(index, 1);
  grant.atMs = atMs;
  let at = grants.length;
  while (at > state.head && grants[at - 1]!.atMs > atMs) at--;
  grants.splice(at, 0, grant);
}
