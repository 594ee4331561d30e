import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeWorkerInfo } from '../../src/cluster/messages.js';
import { WorkerIdInUseError, WorkerNode } from '../../src/cluster/worker-node.js';
import { createMemoryCoordination, type MemoryCoordination } from '../../src/coord/memory-coordination.js';
import type { Worker } from '../../src/worker/worker.js';

const HEARTBEAT_MS = 40;

/** What WorkerNode reads of its worker to announce it (a process with no switches yet). */
const idle = (workerId: string) =>
  ({
    workerId,
    maxCalls: 10,
    activeCalls: 0,
    switchIds: () => [],
    isSwitchUsable: () => false,
  }) as unknown as Worker;

function node(coord: MemoryCoordination, workerId: string): WorkerNode {
  return new WorkerNode({
    worker: idle(workerId),
    coord,
    clock: Date.now,
    logger: pino({ level: 'silent' }),
    heartbeatMs: HEARTBEAT_MS,
    refreshSwitches: async () => {},
    adopt: async () => [],
  });
}

/**
 * Two live processes under one worker id would both read its order stream and both be cleared to
 * send its calls: a second one must not start. A previous run that died is waited out instead.
 */
describe('one live process per worker id', () => {
  const coords: MemoryCoordination[] = [];
  const nodes: WorkerNode[] = [];
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.stop();
    for (const c of coords.splice(0)) await c.close();
  });

  it('refuses to start beside a live process holding the id', async () => {
    const coord = createMemoryCoordination();
    coords.push(coord);
    const first = node(coord, 'w1');
    nodes.push(first);
    await first.ensureIdFree();
    await first.start();
    await expect(node(coord.peer(), 'w1').ensureIdFree()).rejects.toBeInstanceOf(WorkerIdInUseError);
    // Another id is free.
    await node(coord.peer(), 'w2').ensureIdFree();
  });

  it('waits out the record of a run that died, then starts', async () => {
    const coord = createMemoryCoordination();
    coords.push(coord);
    // A crashed run's last heartbeat: its record lives on for a while, never renewed.
    const ttlMs = 3 * HEARTBEAT_MS;
    await coord.members.heartbeat(
      'worker',
      'w1',
      ttlMs,
      encodeWorkerInfo({ maxCalls: 10, activeCalls: 0, readySwitches: [], instance: 'crashed' }),
    );
    const started = Date.now();
    await node(coord, 'w1').ensureIdFree();
    expect(Date.now() - started).toBeGreaterThanOrEqual(ttlMs - 20);
  });
});
