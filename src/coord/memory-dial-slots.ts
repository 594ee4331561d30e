import { emissionIntervalMs, type PaceState, paceAfterGrant, paceAllowedAt } from '../scheduler/gcra.js';
import type { DialSlots, SlotLevel, SlotResult } from './contract.js';

interface Lease {
  keys: readonly string[];
  expiresAtMs: number;
}

/** Dial slots for one process (the embedded default). */
export class MemoryDialSlots implements DialSlots {
  private readonly pace = new Map<string, PaceState>();
  private readonly concurrent = new Map<string, number>();
  private readonly leases = new Map<string, Lease>();

  constructor(private readonly capsGuardMs: number) {}

  acquire(leaseId: string, levels: readonly SlotLevel[], nowMs: number, ttlMs: number): SlotResult {
    if (this.leases.has(leaseId)) throw new Error(`lease ${leaseId} is already held`);
    // Check every level first: nothing is taken unless everything can be.
    for (const level of levels) {
      if (level.capsPerSecond !== null) {
        const allowedAt = paceAllowedAt(this.pace.get(level.key));
        if (nowMs < allowedAt)
          return { granted: false, denial: { key: level.key, reason: 'caps', retryAtMs: allowedAt } };
      }
      if (level.maxConcurrent !== null && this.inFlight(level.key) >= level.maxConcurrent) {
        return { granted: false, denial: { key: level.key, reason: 'concurrency', retryAtMs: null } };
      }
    }
    for (const level of levels) {
      if (level.capsPerSecond !== null) {
        const interval = emissionIntervalMs(level.capsPerSecond, this.capsGuardMs);
        this.pace.set(level.key, paceAfterGrant(this.pace.get(level.key), nowMs, interval));
      }
    }
    this.hold(leaseId, levels, nowMs + ttlMs);
    return { granted: true };
  }

  adopt(leaseId: string, levels: readonly SlotLevel[], nowMs: number, ttlMs: number): void {
    if (!this.leases.has(leaseId)) this.hold(leaseId, levels, nowMs + ttlMs);
  }

  private hold(leaseId: string, levels: readonly SlotLevel[], expiresAtMs: number): void {
    const keys = levels.map((level) => level.key);
    for (const key of keys) this.concurrent.set(key, this.inFlight(key) + 1);
    this.leases.set(leaseId, { keys, expiresAtMs });
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

  paceAllowedAt(key: string): number {
    return paceAllowedAt(this.pace.get(key));
  }
}
