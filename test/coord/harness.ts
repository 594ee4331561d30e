import { vi } from 'vitest';
import type { Clock, Coordination, Subscription } from '../../src/coord/cluster-contract.js';
import { createMemoryCoordination } from '../../src/coord/memory-coordination.js';
import { createRedisCoordination } from '../../src/coord/redis-coordination.js';
import type { CoordLogger } from '../../src/coord/stream-bus.js';
import { deleteNamespace, freshNamespace, TEST_REDIS_URL } from '../support/redis.js';

/** One backend as the conformance suite sees it. */
export interface CoordinationKind {
  name: 'memory' | 'redis';
  open(clock: Clock, logger: CoordLogger): Promise<Harness>;
}

export interface Harness {
  coordination: Coordination;
  /** Another process on the same backend. */
  peer(): Promise<Coordination>;
  /** The backend lost every key (a Redis without persistence restarted); returns what to use after. */
  lose(): Promise<Coordination>;
  dispose(): Promise<void>;
}

export const memoryKind: CoordinationKind = {
  name: 'memory',
  async open(clock, logger) {
    const coordination = createMemoryCoordination({ clock, logger });
    const opened: Coordination[] = [coordination];
    return {
      coordination,
      async peer() {
        const peer = coordination.peer();
        opened.push(peer);
        return peer;
      },
      async lose() {
        const fresh = createMemoryCoordination({ clock, logger });
        opened.push(fresh);
        return fresh;
      },
      async dispose() {
        await Promise.all(opened.map((each) => each.close()));
      },
    };
  },
};

export const redisKind: CoordinationKind = {
  name: 'redis',
  async open(clock, logger) {
    const namespace = freshNamespace('conf');
    const open = () => createRedisCoordination({ url: TEST_REDIS_URL, namespace, clock, logger });
    const coordination = await open();
    const opened: Coordination[] = [coordination];
    return {
      coordination,
      async peer() {
        const peer = await open();
        opened.push(peer);
        return peer;
      },
      async lose() {
        await deleteNamespace(namespace);
        return coordination;
      },
      async dispose() {
        await Promise.all(opened.map((each) => each.close()));
        await deleteNamespace(namespace);
      },
    };
  },
};

/** A clock the test moves by hand. */
export function virtualClock(startMs = 1_700_000_000_000): { clock: Clock; advance(ms: number): void } {
  let nowMs = startMs;
  return {
    clock: () => nowMs,
    advance(ms) {
      nowMs += ms;
    },
  };
}

export function recordingLogger(): CoordLogger & { warnings: string[]; errors: string[] } {
  const warnings: string[] = [];
  const errors: string[] = [];
  return {
    warnings,
    errors,
    warn: (_details, message) => warnings.push(message),
    error: (_details, message) => errors.push(message),
  };
}

/** Records what a subscription receives, batch by batch. */
export class Inbox {
  readonly batches: unknown[][] = [];

  get messages(): unknown[] {
    return this.batches.flat();
  }

  readonly handler = (messages: unknown[]): void => {
    this.batches.push(messages);
  };

  async waitForCount(count: number, timeoutMs = 10_000): Promise<void> {
    await vi.waitFor(
      () => {
        if (this.messages.length < count) throw new Error(`${this.messages.length} of ${count} messages`);
      },
      { timeout: timeoutMs, interval: 5 },
    );
  }
}

export async function closeAll(subscriptions: Subscription[]): Promise<void> {
  await Promise.all(subscriptions.map((subscription) => subscription.close()));
}

/** Resolves when `release()` is called (a handler held until the test lets it go). */
export function gate(): { wait: Promise<void>; release(): void } {
  let release = () => {};
  const wait = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { wait, release };
}
