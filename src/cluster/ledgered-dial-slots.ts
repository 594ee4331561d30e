import type { Logger } from 'pino';
import type { LedgerChange, LedgerGrant, SlotLedger } from '../coord/cluster-contract.js';
import type { DialSlots, SlotLevel, SlotResult } from '../coord/contract.js';
import type { MemoryDialSlots } from '../coord/memory-dial-slots.js';

/**
 * The leader's dial slots: decided in its memory (exact and synchronous, as the scheduler core
 * needs), every change also queued for the slot ledger in coordination (`LedgerSync`), so that the
 * ledger holds the in-flight leases per resource and the pace state the leader acts on.
 *
 * A grant goes to the ledger with its pace entries at the latest time its call can reach a switch
 * (grant + the age past which workers refuse an order): a successor reading the ledger counts it
 * there, never earlier than it can happen. Send reports (`markSent`) are not written: they could
 * only move an entry earlier, and the later bound is the safe one.
 */
export class LedgeredDialSlots implements DialSlots {
  #pending: LedgerChange = { grants: [], released: [] };

  constructor(
    readonly slots: MemoryDialSlots,
    private readonly unsentBoundMs: number,
    /** Called when the first change of a new batch is queued (schedule a sync). */
    private readonly onPending: () => void,
  ) {}

  acquire(leaseId: string, levels: readonly SlotLevel[], nowMs: number, ttlMs: number): SlotResult {
    const result = this.slots.acquire(leaseId, levels, nowMs, ttlMs);
    if (result.granted) {
      const paced: LedgerGrant['paced'] = [];
      for (const level of levels) {
        if (level.capsPerSecond === null) continue;
        const tat = this.slots.paceTat(level.key) ?? nowMs;
        paced.push({ key: level.key, atMs: nowMs + this.unsentBoundMs, tat });
      }
      this.#queueGrant({ leaseId, keys: levels.map((l) => l.key), expiresAtMs: nowMs + ttlMs, paced });
    }
    return result;
  }

  adopt(leaseId: string, levels: readonly SlotLevel[], nowMs: number, ttlMs: number): void {
    this.slots.adopt(leaseId, levels, nowMs, ttlMs);
    this.#queueGrant({ leaseId, keys: levels.map((l) => l.key), expiresAtMs: nowMs + ttlMs, paced: [] });
  }

  markSent(leaseId: string, atMs: number): void {
    this.slots.markSent(leaseId, atMs);
  }

  release(leaseId: string): boolean {
    const released = this.slots.release(leaseId);
    if (released) this.#queueRelease([leaseId]);
    return released;
  }

  expire(nowMs: number): string[] {
    const expired = this.slots.expire(nowMs);
    if (expired.length > 0) this.#queueRelease(expired);
    return expired;
  }

  inFlight(key: string): number {
    return this.slots.inFlight(key);
  }

  paceAllowedAt(key: string, capsPerSecond: number, nowMs: number): number {
    return this.slots.paceAllowedAt(key, capsPerSecond, nowMs);
  }

  /** The changes queued since the last call, now owned by the caller. */
  takePending(): LedgerChange {
    const pending = this.#pending;
    this.#pending = { grants: [], released: [] };
    return pending;
  }

  /**
   * A batch that could not be written goes back in front of what was queued since. No sync is
   * scheduled for it (that would spin while coordination is down): the next change or the
   * leader's periodic sync writes it.
   */
  requeue(change: LedgerChange): void {
    this.#pending = {
      grants: [...change.grants, ...this.#pending.grants],
      released: [...change.released, ...this.#pending.released],
    };
  }

  #queueGrant(grant: LedgerGrant): void {
    if (isEmpty(this.#pending)) this.onPending();
    this.#pending.grants.push(grant);
  }

  #queueRelease(leaseIds: readonly string[]): void {
    if (isEmpty(this.#pending)) this.onPending();
    this.#pending.released.push(...leaseIds);
  }
}

function isEmpty(change: LedgerChange): boolean {
  return change.grants.length === 0 && change.released.length === 0;
}

export interface LedgerSyncOptions {
  ledger: SlotLedger;
  slots: LedgeredDialSlots;
  /** The leader's token while it leads, else null. */
  fence: () => number | null;
  clock: () => number;
  logger: Logger;
  /** A newer leader holds the ledger: this one must stop. */
  onFenced: () => void;
  /**
   * Whether this leader's memory holds every grant that can still reach a switch (false during
   * its quiet period after an incomplete takeover): only then may it rebuild a lost ledger.
   */
  mayRebuild: () => boolean;
}

/**
 * Writes the leader's queued slot changes to the ledger, one batch at a time and in order. The
 * port awaits a sync before it publishes orders, so every grant whose order leaves is in the
 * ledger first; a batch that cannot be written holds its orders back (their attempts are
 * recovered as `not_dialed` by the workers' lost-order check) and is written with the next one.
 */
export class LedgerSync {
  #chain: Promise<boolean> = Promise.resolve(true);

  constructor(private readonly options: LedgerSyncOptions) {}

  /** Resolves true when every grant queued so far is in the ledger. */
  sync(): Promise<boolean> {
    this.#chain = this.#chain.then(() => this.#write());
    return this.#chain;
  }

  async #write(): Promise<boolean> {
    const { ledger, slots, fence, clock, logger } = this.options;
    const change = slots.takePending();
    if (isEmpty(change)) return true;
    const token = fence();
    if (token === null) {
      // Not leading now (a late renewal, or deposed): kept for a successor's rewrite or our next write.
      slots.requeue(change);
      return false;
    }
    try {
      let result = await ledger.write(token, change, clock());
      if (result === 'lost') {
        if (!this.options.mayRebuild()) {
          logger.warn('slot ledger lost during the quiet period: it is rebuilt when the period ends');
          return change.grants.length === 0;
        }
        logger.warn('slot ledger lost (coordination restarted empty?): rebuilding it from this leader');
        result = await ledger.replace(token, slots.slots.exportState(clock()), true);
      }
      if (result === 'fenced') {
        this.options.onFenced();
        return false;
      }
      return true;
    } catch (error) {
      slots.requeue(change);
      logger.warn({ err: error }, 'writing the slot ledger failed; orders wait for the next write');
      return false;
    }
  }
}
