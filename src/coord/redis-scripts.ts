import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis, RedisValue } from 'ioredis';

/**
 * One Lua script from `lua/`, one transition each (STYLE habit 7); its header documents KEYS and
 * ARGV. Run by EVALSHA, falling back to EVAL when the server does not know it (after a restart
 * or SCRIPT FLUSH) — or always by EVAL where order matters more than bytes (`runInOrder`).
 */
export class LuaScript {
  readonly sha1: string;

  private constructor(
    readonly name: string,
    readonly source: string,
    readonly numberOfKeys: number,
  ) {
    this.sha1 = createHash('sha1').update(source).digest('hex');
  }

  static load(name: string, numberOfKeys: number): LuaScript {
    const source = readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
    return new LuaScript(name, source, numberOfKeys);
  }

  run(redis: Redis, keys: readonly string[], args: readonly RedisValue[]): Promise<unknown> {
    this.checkKeys(keys);
    return redis.evalsha(this.sha1, keys.length, ...keys, ...args).catch((error: unknown) => {
      if (!isNoScript(error)) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    });
  }

  /**
   * EVAL every time: the fallback of `run` sends the script a second time, after commands issued
   * since, which would reorder one connection's calls.
   */
  runInOrder(redis: Redis, keys: readonly string[], args: readonly RedisValue[]): Promise<unknown> {
    this.checkKeys(keys);
    return redis.eval(this.source, keys.length, ...keys, ...args);
  }

  private checkKeys(keys: readonly string[]): void {
    if (keys.length !== this.numberOfKeys)
      throw new Error(`script ${this.name} takes ${this.numberOfKeys} keys, got ${keys.length}`);
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

export const scripts = {
  leaderAcquire: LuaScript.load('leader-acquire', 2),
  leaderRenew: LuaScript.load('leader-renew', 1),
  leaderRelease: LuaScript.load('leader-release', 1),
  leaderCurrent: LuaScript.load('leader-current', 1),
  membersHeartbeat: LuaScript.load('members-heartbeat', 2),
  membersLive: LuaScript.load('members-live', 2),
  membersLeave: LuaScript.load('members-leave', 2),
  votesCast: LuaScript.load('votes-cast', 1),
  votesRead: LuaScript.load('votes-read', 1),
  busPublish: LuaScript.load('bus-publish', 2),
  rateTake: LuaScript.load('rate-take', 1),
  loginCheck: LuaScript.load('login-check', 2),
  loginFail: LuaScript.load('login-fail', 2),
  loginSucceed: LuaScript.load('login-succeed', 1),
  ledgerWrite: LuaScript.load('ledger-write', 5),
  ledgerTake: LuaScript.load('ledger-take', 5),
  ledgerReplace: LuaScript.load('ledger-replace', 5),
} as const;
