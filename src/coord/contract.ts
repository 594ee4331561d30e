/**
 * Hot shared state for dispatching (ARCHITECTURE: coord/). The store stays the truth about tasks;
 * what lives here can be rebuilt from it: pace state and in-flight leases per resource.
 */

/** One level a call uses (switch, gateway, line, campaign, …), with its limits. */
export interface SlotLevel {
  /** e.g. `line:<id>`, `switch:<id>` */
  key: string;
  capsPerSecond: number | null;
  maxConcurrent: number | null;
}

export type SlotDenial = {
  key: string;
  reason: 'caps' | 'concurrency';
  /** For `caps`: when the pace allows the next call. */
  retryAtMs: number | null;
};

export type SlotResult = { granted: true } | { granted: false; denial: SlotDenial };

export interface DialSlots {
  /**
   * Takes one call attempt of pace and one concurrent call at every level, or nothing at all
   * (ARCHITECTURE decision 4). The lease expires at `nowMs + ttlMs` unless released, so a lost
   * hang-up cannot hold capacity forever.
   */
  acquire(leaseId: string, levels: readonly SlotLevel[], nowMs: number, ttlMs: number): SlotResult;
  /** Holds concurrency (not pace) for a call found live after a restart. */
  adopt(leaseId: string, levels: readonly SlotLevel[], nowMs: number, ttlMs: number): void;
  /**
   * The call's originate was written to the switch at `atMs`: its pace entries move there, so
   * later grants are counted against send times (what the switch sees), not decision times.
   */
  markSent(leaseId: string, atMs: number): void;
  release(leaseId: string): boolean;
  /** Releases leases past their expiry; returns their ids. */
  expire(nowMs: number): string[];
  inFlight(key: string): number;
  /** Earliest time the pace of this level (at this rate) allows a call. */
  paceAllowedAt(key: string, capsPerSecond: number, nowMs: number): number;
}
