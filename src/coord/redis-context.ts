import type { Redis } from 'ioredis';
import type { Clock } from './cluster-contract.js';
import { CoordProtocolError } from './coord-errors.js';
import type { RedisKeys } from './redis-keys.js';

/** What the Redis parts share: the command connection, the key names and the time source. */
export interface RedisContext {
  readonly redis: Redis;
  readonly keys: RedisKeys;
  /**
   * ARGV `nowMs` of every time-based script: the given clock's reading, or '' so that the script
   * reads the server's TIME. Either way one clock decides every expiry (see redis-coordination.ts).
   */
  nowArg(): string;
  /** How long a key outlives its logical expiry before Redis drops it (garbage collection only). */
  readonly graceMs: number;
}

export function createRedisContext(redis: Redis, keys: RedisKeys, clock: Clock | undefined): RedisContext {
  return {
    redis,
    keys,
    nowArg: clock === undefined ? () => '' : () => String(Math.floor(clock())),
    graceMs: 60_000,
  };
}

export function integerReply(script: string, reply: unknown): number {
  const value = typeof reply === 'string' ? Number(reply) : reply;
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new CoordProtocolError(`${script}: expected an integer, got ${JSON.stringify(reply)}`);
  return value;
}

export function arrayReply(script: string, reply: unknown): unknown[] {
  if (!Array.isArray(reply))
    throw new CoordProtocolError(`${script}: expected an array, got ${typeof reply}`);
  return reply;
}

export function stringReply(script: string, reply: unknown): string {
  if (typeof reply !== 'string')
    throw new CoordProtocolError(`${script}: expected a string, got ${typeof reply}`);
  return reply;
}
