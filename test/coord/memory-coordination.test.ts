import { describe, expect, it } from 'vitest';
import { CoordClosedError } from '../../src/coord/coord-errors.js';
import { createMemoryCoordination } from '../../src/coord/memory-coordination.js';
import { gate, Inbox, recordingLogger } from './harness.js';

describe('coordination in memory: what only memory has', () => {
  it('trims a stream past its cap: a subscriber that fell behind loses the oldest, in order', async () => {
    const coordination = createMemoryCoordination({
      streamMaxLength: 100,
      batchSize: 10,
      logger: recordingLogger(),
    });
    const held = gate();
    const received: number[] = [];
    coordination.bus.subscribe('events', async (messages) => {
      received.push(...messages.map((message) => (message as { n: number }).n));
      if (received.length === 1) await held.wait;
    });
    await coordination.bus.publish('events', [{ n: 0 }]);
    await expectEventually(() => received.length === 1);
    // While the first subscriber is held on its first batch, 1,000 more arrive; the stream keeps ~100.
    for (let n = 1; n <= 1_000; n += 100)
      await coordination.bus.publish(
        'events',
        Array.from({ length: 100 }, (_, i) => ({ n: n + i })),
      );
    held.release();
    await expectEventually(() => received.at(-1) === 1_000);
    expect(received.length).toBeLessThan(300);
    expect(received.length).toBeGreaterThan(100);
    // What it got is the newest, in order, without gaps after the trimmed part.
    const tail = received.slice(1);
    expect(tail).toEqual(Array.from({ length: tail.length }, (_, i) => 1_001 - tail.length + i));
    await coordination.close();
  });

  it('shares lease, members, votes and streams with its peers, each with its own subscriptions', async () => {
    const first = createMemoryCoordination({ logger: recordingLogger() });
    const second = first.peer();
    expect(await first.leader.acquire('dispatch', 'a', 1_000, 0)).toBe(1);
    expect(await second.leader.acquire('dispatch', 'b', 1_000, 0)).toBeNull();
    const inbox = new Inbox();
    second.bus.subscribe('events', inbox.handler);
    await first.bus.close();
    await expect(first.bus.publish('events', [{ n: 1 }])).rejects.toBeInstanceOf(CoordClosedError);
    await second.bus.publish('events', [{ n: 2 }]);
    await inbox.waitForCount(1);
    expect(inbox.messages).toEqual([{ n: 2 }]);
    await second.close();
  });
});

async function expectEventually(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  expect(condition()).toBe(true);
}
