import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { type Config, DEFAULT_CONFIG } from '../../src/config/config.js';
import { createMemoryCoordination } from '../../src/coord/index.js';
import { ApiClient } from '../../src/platform/api-client.js';
import { type ClusterNode, startClusterNode } from '../../src/platform/cluster.js';
import { type SimCluster, startSimCluster } from '../../src/sim/index.js';
import type { Store } from '../../src/store/contract.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { eventually } from '../support/child.js';
import { maxPerSecondByLine, originates } from '../support/ground-truth-checks.js';
import { setUpThroughApi, taskStatusCounts } from '../support/platform-setup.js';
import { makeTempDir } from '../support/temp-dir.js';

const API_KEY = 'cluster-in-process-key-0123456789';

const CARRIER = {
  gateways: {
    carrier1: {
      answer: 0.6,
      busy: 0.15,
      noAnswer: 0.1,
      invalid: 0.05,
      congestion: 0.1,
      ringMs: { minMs: 100, maxMs: 600 },
      talkMs: { minMs: 500, maxMs: 2500 },
    },
  },
};

/**
 * The cluster's roles wired through coordination, in one process (memory coordination, one
 * SQLite store): an api, two schedulers (one leads), two workers. The leader steps down and a
 * worker goes away mid-run; every task still ends exactly once on the switches' own record.
 * (The same with separate processes, PostgreSQL, Redis and kill -9 is the chaos suite.)
 */
describe('cluster roles in one process', () => {
  const dir = makeTempDir();
  const logger = pino({ level: process.env.SB_TEST_LOG ?? 'silent' });
  let sim: SimCluster | undefined;
  let store: Store | undefined;
  const coord = createMemoryCoordination();
  const nodes: ClusterNode[] = [];

  afterAll(async () => {
    for (const node of nodes.reverse()) await node.stop().catch(() => {});
    await coord.close();
    await store?.close();
    await sim?.close();
    dir.remove();
  });

  const config = (overrides: Partial<Config>): Config => ({
    ...DEFAULT_CONFIG,
    dataDir: dir.path,
    httpPort: 0,
    apiKey: API_KEY,
    warmupMs: 0,
    leaderTtlMs: 1_000,
    // No switch here posts call records: a call gone from its switch has none to wait for.
    callRecordWaitMs: 0,
    ...overrides,
  });

  async function start(overrides: Partial<Config>): Promise<ClusterNode> {
    const node = await startClusterNode({ config: config(overrides), logger, coord, store: store! });
    nodes.push(node);
    return node;
  }

  it('dispatches through the leader, survives a leader hand-over and a worker leaving', async () => {
    sim = await startSimCluster({
      nodes: [
        { name: 'sim-1', port: 0, sessionsPerSecond: 500 },
        { name: 'sim-2', port: 0, sessionsPerSecond: 500 },
      ],
      profile: CARRIER,
      seed: 5,
    });
    store = openSqliteStore(join(dir.path, 'switchboard.db'));
    const api = await start({ roles: 'api' });
    const client = new ApiClient(api.url, API_KEY);
    const layout = await setUpThroughApi(
      client,
      sim.nodes.map((n) => ({ name: n.name, host: n.host, port: n.port })),
      ['carrier1'],
      [
        { name: 'l1', gateway: 'carrier1', caps: 40, maxConcurrent: 60 },
        { name: 'l2', gateway: 'carrier1', caps: 30, maxConcurrent: 40 },
      ],
      [{ name: 'Cluster campaign', lines: ['l1', 'l2'], tasks: 600, numberOffset: 0, maxAttempts: 1 }],
    );
    const w1 = await start({ roles: 'worker', workerId: 'w1', maxCalls: 200 });
    await start({ roles: 'worker', workerId: 'w2', maxCalls: 200 });
    const s1 = await start({ roles: 'scheduler' });
    const leader = await eventually(() => (s1.scheduler?.isLeader ? s1 : undefined), 10_000, 'a leader');
    const s2 = await start({ roles: 'scheduler' });
    expect(s2.scheduler?.isLeader).toBe(false);

    await eventually(
      () => (originates(sim!.groundTruth.entries()).length >= 150 ? true : undefined),
      30_000,
      '150 originates',
    );
    // The leader steps down (its lease released): the standby takes over within a lease.
    const handOverAt = Date.now();
    await leader.scheduler!.stop();
    await eventually(() => (s2.scheduler?.isLeader ? true : undefined), 5_000, 'the standby to lead');
    const handOverMs = Date.now() - handOverAt;
    expect(handOverMs).toBeLessThan(5_000);

    // A worker leaves with calls up: the other adopts them and follows them to their end.
    await eventually(
      () => (originates(sim!.groundTruth.entries()).length >= 300 ? true : undefined),
      30_000,
      '300 originates',
    );
    await w1.workerNode!.stop();
    await w1.worker!.stop();

    const counts = await eventually(
      async () => {
        const c = await taskStatusCounts(client, layout.campaignIds);
        return (c.queued ?? 0) + (c.dialing ?? 0) === 0 ? c : undefined;
      },
      90_000,
      'every task to reach a terminal status',
    );
    expect((counts.completed ?? 0) + (counts.expired ?? 0)).toBe(600);

    const perTask = new Map<string, number>();
    for (const o of originates(sim.groundTruth.entries())) {
      if (!o.accepted) continue;
      const task = o.variables.sb_task ?? '?';
      perTask.set(task, (perTask.get(task) ?? 0) + 1);
    }
    expect([...perTask].filter(([, n]) => n > 1)).toEqual([]);
    expect(perTask.size).toBeGreaterThan(500);

    // CAPS held across the hand-over, judged by what the switches received.
    const lineCaps = new Map([
      [layout.lineIds.get('l1')!, 40],
      [layout.lineIds.get('l2')!, 30],
    ]);
    for (const [line, most] of maxPerSecondByLine(sim.groundTruth.entries())) {
      expect(most).toBeLessThanOrEqual(lineCaps.get(line)!);
    }
    // Both workers placed calls.
    const byWorker = new Set(originates(sim.groundTruth.entries()).map((o) => o.variables.sb_worker));
    expect(byWorker).toEqual(new Set(['w1', 'w2']));
  }, 150_000);
});
