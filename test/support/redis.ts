import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis the tests use (no password on these machines); SWITCHBOARD_TEST_REDIS_URL overrides. */
export const TEST_REDIS_URL = process.env.SWITCHBOARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Whether Redis answers. Under CI the answer must be yes: a suite that needs it fails there rather
 * than skipping (use `describe.skipIf(!(await redisAvailable()))`).
 */
export async function redisAvailable(): Promise<boolean> {
  const redis = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {
    // The outcome is reported below (connect rejects); ioredis would print it otherwise.
  });
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch (error) {
    if (process.env.CI) throw new Error(`Redis is required under CI: ${String(error)}`);
    return false;
  } finally {
    redis.disconnect();
  }
}

/** A fresh namespace for one test file (or test): its keys are `sb:{<namespace>}:…`. */
export function freshNamespace(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/**
 * The SCAN MATCH pattern of a namespace's keys. Braces are not glob syntax in Redis, but `*`, `?`,
 * `[`, `]` and `\` are: escape them so a namespace matches only itself.
 */
export function namespacePattern(namespace: string): string {
  return `sb:{${namespace.replace(/[*?[\]\\]/g, '\\$&')}}:*`;
}

/** Deletes every key of the namespace (SCAN + DEL, never KEYS or FLUSHDB: the server is shared). */
export async function deleteNamespace(namespace: string): Promise<number> {
  const redis = new Redis(TEST_REDIS_URL, { protocol: 2 });
  try {
    return await deleteKeys(redis, namespacePattern(namespace));
  } finally {
    redis.disconnect();
  }
}

async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/**
 * Drops the server side of every connection whose name starts with `sb:<namespace>:` (CLIENT
 * KILL by id): what a Redis restart looks like to a client, without touching other users of a
 * shared server. Returns how many were killed.
 */
export async function killNamespaceConnections(namespace: string): Promise<number> {
  const redis = new Redis(TEST_REDIS_URL, { protocol: 2 });
  try {
    const list = String(await redis.call('CLIENT', 'LIST', 'TYPE', 'normal'));
    const ids = list
      .split('\n')
      .map((line) => ({ id: /\bid=(\d+)/.exec(line)?.[1], name: /\bname=(\S*)/.exec(line)?.[1] ?? '' }))
      .filter((client) => client.id !== undefined && client.name.startsWith(`sb:${namespace}:`))
      .map((client) => client.id as string);
    let killed = 0;
    for (const id of ids) killed += Number(await redis.call('CLIENT', 'KILL', 'ID', id));
    return killed;
  } finally {
    redis.disconnect();
  }
}
