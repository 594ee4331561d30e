import type {
  LedgerChange,
  LedgerSnapshot,
  LedgerState,
  LedgerWriteResult,
  SlotLedger,
} from './cluster-contract.js';
import { CoordProtocolError } from './coord-errors.js';
import { arrayReply, type RedisContext, stringReply } from './redis-context.js';
import { scripts } from './redis-scripts.js';
import { checkChange, checkState, LEDGER_PACE_HORIZON_MS } from './slot-ledger-rules.js';

/**
 * The slot ledger on Redis: `lua/ledger-*.lua`, five keys under the namespace's hash tag (a meta
 * hash with the fence, the leases, in-flight counts per level, the pace entries as one sorted set
 * scored by time, the pace schedules). Times travel as strings (JavaScript's shortest exact form),
 * so a fractional schedule comes back as it went.
 */
export class RedisSlotLedger implements SlotLedger {
  constructor(private readonly context: RedisContext) {}

  #keys(): string[] {
    const { keys } = this.context;
    return ['meta', 'leases', 'inflight', 'pace', 'tats'].map((part) => keys.ledger(part));
  }

  async write(fence: number, change: LedgerChange, nowMs: number): Promise<LedgerWriteResult> {
    checkChange(fence, change, nowMs);
    const batch = {
      g: change.grants.map((grant) => [
        grant.leaseId,
        leaseJson(grant.keys, grant.expiresAtMs),
        grant.keys,
        grant.paced.map((entry) => [
          entry.key,
          JSON.stringify([entry.key, grant.leaseId]),
          String(entry.atMs),
          String(entry.tat),
        ]),
      ]),
      r: change.released,
    };
    const reply = await scripts.ledgerWrite.run(this.context.redis, this.#keys(), [
      String(fence),
      String(nowMs - LEDGER_PACE_HORIZON_MS),
      JSON.stringify(batch),
    ]);
    return writeResult('ledger-write', reply);
  }

  async take(fence: number, nowMs: number, paceWindowMs: number): Promise<LedgerSnapshot | null> {
    checkChange(fence, { grants: [], released: [] }, nowMs);
    const reply = arrayReply(
      'ledger-take',
      await scripts.ledgerTake.run(this.context.redis, this.#keys(), [
        String(fence),
        String(nowMs),
        String(paceWindowMs),
      ]),
    );
    if (reply[0] === 'fenced') return null;
    if (reply[0] !== 'ok' || reply.length !== 6)
      throw new CoordProtocolError('ledger-take: unexpected reply');
    const previous = stringReply('ledger-take', reply[1]);
    const pace = new Map<string, { tat: number; entries: number[] }>();
    const paceOf = (key: string) => {
      let entry = pace.get(key);
      if (!entry) {
        entry = { tat: Number.NEGATIVE_INFINITY, entries: [] };
        pace.set(key, entry);
      }
      return entry;
    };
    const entries = arrayReply('ledger-take', reply[3]);
    for (let i = 0; i + 1 < entries.length; i += 2) {
      const [key] = parseMember(stringReply('ledger-take', entries[i]));
      paceOf(key).entries.push(Number(entries[i + 1]));
    }
    const tats = arrayReply('ledger-take', reply[4]);
    for (let i = 0; i + 1 < tats.length; i += 2) {
      paceOf(stringReply('ledger-take', tats[i])).tat = Number(tats[i + 1]);
    }
    const leases = new Map<string, { keys: string[]; expiresAtMs: number }>();
    const rawLeases = arrayReply('ledger-take', reply[5]);
    for (let i = 0; i + 1 < rawLeases.length; i += 2) {
      leases.set(
        stringReply('ledger-take', rawLeases[i]),
        parseLease(stringReply('ledger-take', rawLeases[i + 1])),
      );
    }
    return {
      complete: reply[2] === '1',
      previousFence: previous === '' ? null : Number(previous),
      pace,
      leases,
    };
  }

  async replace(fence: number, state: LedgerState, complete: boolean): Promise<LedgerWriteResult> {
    checkState(fence, state);
    const body = {
      p: [...state.pace].map(([key, { tat, entries }]) => [
        key,
        String(tat),
        entries.map((atMs, i) => [JSON.stringify([key, `#${i}`]), String(atMs)]),
      ]),
      l: [...state.leases].map(([leaseId, lease]) => [
        leaseId,
        leaseJson(lease.keys, lease.expiresAtMs),
        lease.keys,
      ]),
    };
    const reply = await scripts.ledgerReplace.run(this.context.redis, this.#keys(), [
      String(fence),
      complete ? '1' : '0',
      JSON.stringify(body),
    ]);
    return writeResult('ledger-replace', reply);
  }

  async inFlight(keys: readonly string[]): Promise<Map<string, number>> {
    if (keys.length === 0) return new Map();
    const counts = await this.context.redis.hmget(this.context.keys.ledger('inflight'), ...keys);
    return new Map(keys.map((key, i) => [key, Math.max(0, Number(counts[i] ?? 0))]));
  }
}

function leaseJson(keys: readonly string[], expiresAtMs: number): string {
  return JSON.stringify({ k: keys, e: expiresAtMs });
}

function writeResult(script: string, reply: unknown): LedgerWriteResult {
  if (reply === 'ok' || reply === 'fenced' || reply === 'lost') return reply;
  throw new CoordProtocolError(`${script}: unexpected reply ${JSON.stringify(reply)}`);
}

function parseMember(member: string): [string, string] {
  const value: unknown = JSON.parse(member);
  if (!Array.isArray(value) || typeof value[0] !== 'string' || typeof value[1] !== 'string')
    throw new CoordProtocolError(`ledger-take: malformed pace entry ${member}`);
  return [value[0], value[1]];
}

function parseLease(json: string): { keys: string[]; expiresAtMs: number } {
  const value = JSON.parse(json) as { k?: unknown; e?: unknown };
  if (!Array.isArray(value.k) || !value.k.every((k) => typeof k === 'string') || typeof value.e !== 'number')
    throw new CoordProtocolError(`ledger-take: malformed lease ${json}`);
  return { keys: value.k as string[], expiresAtMs: value.e };
}
