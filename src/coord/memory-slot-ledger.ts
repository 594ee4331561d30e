import type {
  LedgerChange,
  LedgerSnapshot,
  LedgerState,
  LedgerWriteResult,
  SlotLedger,
} from './cluster-contract.js';
import { checkChange, checkState, LEDGER_PACE_HORIZON_MS } from './slot-ledger-rules.js';

interface Pace {
  tat: number;
  /** Entry id (lease id, or `#n` for entries rebuilt without one) → time. */
  entries: Map<string, number>;
}

/** The slot ledger in one process (embedded mode, in-process clusters in tests). */
export class MemorySlotLedger implements SlotLedger {
  /** Whether the ledger exists at all (a fresh one is "lost" until taken or replaced). */
  #exists = false;
  #fence: number | null = null;
  #complete = false;
  #pace = new Map<string, Pace>();
  #leases = new Map<string, { keys: string[]; expiresAtMs: number }>();
  #inFlight = new Map<string, number>();
  #prunedAtMs = Number.NEGATIVE_INFINITY;

  async write(fence: number, change: LedgerChange, nowMs: number): Promise<LedgerWriteResult> {
    checkChange(fence, change, nowMs);
    if (!this.#exists) return 'lost';
    if (this.#fence !== null && fence < this.#fence) return 'fenced';
    this.#fence = fence;
    for (const grant of change.grants) {
      if (!this.#leases.has(grant.leaseId)) {
        this.#leases.set(grant.leaseId, { keys: [...grant.keys], expiresAtMs: grant.expiresAtMs });
        for (const key of grant.keys) this.#inFlight.set(key, (this.#inFlight.get(key) ?? 0) + 1);
      }
      for (const entry of grant.paced) {
        const pace = this.#paceOf(entry.key);
        pace.entries.set(grant.leaseId, entry.atMs);
        pace.tat = Math.max(pace.tat, entry.tat);
      }
    }
    for (const leaseId of change.released) this.#release(leaseId);
    // A scan of every entry, so at most once a second (Redis drops them by score on each write).
    if (nowMs - this.#prunedAtMs >= 1_000) {
      this.#prunedAtMs = nowMs;
      this.#prunePace(nowMs - LEDGER_PACE_HORIZON_MS);
    }
    return 'ok';
  }

  async take(fence: number, nowMs: number, paceWindowMs: number): Promise<LedgerSnapshot | null> {
    checkChange(fence, { grants: [], released: [] }, nowMs);
    if (this.#fence !== null && fence < this.#fence) return null;
    const previousFence = this.#exists ? this.#fence : null;
    const complete = this.#exists && this.#complete;
    if (!this.#exists) {
      this.#exists = true;
      this.#complete = false;
    }
    this.#fence = fence;
    for (const [leaseId, lease] of this.#leases) if (lease.expiresAtMs <= nowMs) this.#release(leaseId);
    this.#prunePace(nowMs - paceWindowMs);
    const pace = new Map<string, { tat: number; entries: number[] }>();
    for (const [key, { tat, entries }] of this.#pace) {
      pace.set(key, { tat, entries: [...entries.values()].sort((a, b) => a - b) });
    }
    const leases = new Map([...this.#leases].map(([id, lease]) => [id, { ...lease, keys: [...lease.keys] }]));
    return { complete, previousFence, pace, leases };
  }

  async replace(fence: number, state: LedgerState, complete: boolean): Promise<LedgerWriteResult> {
    checkState(fence, state);
    if (this.#fence !== null && fence < this.#fence) return 'fenced';
    this.#exists = true;
    this.#fence = fence;
    this.#complete = complete;
    this.#pace = new Map();
    this.#leases = new Map();
    this.#inFlight = new Map();
    for (const [key, { tat, entries }] of state.pace) {
      this.#pace.set(key, { tat, entries: new Map(entries.map((atMs, i) => [`#${i}`, atMs])) });
    }
    for (const [leaseId, lease] of state.leases) {
      this.#leases.set(leaseId, { keys: [...lease.keys], expiresAtMs: lease.expiresAtMs });
      for (const key of lease.keys) this.#inFlight.set(key, (this.#inFlight.get(key) ?? 0) + 1);
    }
    return 'ok';
  }

  async inFlight(keys: readonly string[]): Promise<Map<string, number>> {
    return new Map(keys.map((key) => [key, this.#inFlight.get(key) ?? 0]));
  }

  #paceOf(key: string): Pace {
    let pace = this.#pace.get(key);
    if (!pace) {
      pace = { tat: Number.NEGATIVE_INFINITY, entries: new Map() };
      this.#pace.set(key, pace);
    }
    return pace;
  }

  #release(leaseId: string): void {
    const lease = this.#leases.get(leaseId);
    if (!lease) return;
    this.#leases.delete(leaseId);
    for (const key of lease.keys) {
      const left = (this.#inFlight.get(key) ?? 0) - 1;
      if (left > 0) this.#inFlight.set(key, left);
      else this.#inFlight.delete(key);
    }
  }

  /** Entries at or before `beforeMs` leave; a key with no entry left and a past schedule goes too. */
  #prunePace(beforeMs: number): void {
    for (const [key, pace] of this.#pace) {
      for (const [id, atMs] of pace.entries) if (atMs <= beforeMs) pace.entries.delete(id);
      if (pace.entries.size === 0 && pace.tat <= beforeMs) this.#pace.delete(key);
    }
  }
}
