import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/platform/api-client.js';
import { type SimCluster, startSimCluster } from '../../src/sim/index.js';
import { eventually, type RunningChild, runSwitchboard } from '../support/child.js';
import { originates } from '../support/ground-truth-checks.js';
import { setUpThroughApi, taskStatusCounts } from '../support/platform-setup.js';
import { makeTempDir } from '../support/temp-dir.js';

const API_KEY = 'crash-test-key-0123456789abcdef';

/** Calls long enough that many are live when the platform dies. */
const SLOW_CARRIER = {
  gateways: {
    carrier1: {
      answer: 0.7,
      busy: 0.1,
      noAnswer: 0.1,
      invalid: 0.05,
      congestion: 0.05,
      ringMs: { minMs: 200, maxMs: 1000 },
      talkMs: { minMs: 1000, maxMs: 4000 },
    },
  },
};

async function startPlatformProcess(dataDir: string): Promise<{ child: RunningChild; api: ApiClient }> {
  const child = runSwitchboard(['start', '--port', '0', '--data-dir', dataDir], {
    SWITCHBOARD_API_KEY: API_KEY,
    SWITCHBOARD_LOG_LEVEL: 'info',
  });
  const [, url] = await child.waitFor(/"url":"(http:\/\/[^"]+)"/, 30_000);
  return { child, api: new ApiClient(url!, API_KEY) };
}

/**
 * R3.6 / ARCHITECTURE decision 3: a platform killed with SIGKILL in the middle of a run and started
 * again on the same SQLite file leaves every task queued or terminal and never originates a task
 * twice — judged by what the (still running) switches actually received.
 */
describe('crash and restart', () => {
  const dir = makeTempDir();
  let sim: SimCluster | undefined;
  let platform: RunningChild | undefined;

  afterAll(async () => {
    await platform?.kill();
    await sim?.close();
    dir.remove();
  });

  it('recovers after SIGKILL without dialing any task twice', async () => {
    sim = await startSimCluster({
      nodes: [
        { name: 'sim-1', port: 0, sessionsPerSecond: 500 },
        { name: 'sim-2', port: 0, sessionsPerSecond: 500 },
      ],
      profile: SLOW_CARRIER,
      seed: 11,
    });
    const first = await startPlatformProcess(dir.path);
    platform = first.child;
    const layout = await setUpThroughApi(
      first.api,
      sim.nodes.map((n) => ({ name: n.name, host: n.host, port: n.port })),
      ['carrier1'],
      [
        { name: 'l1', gateway: 'carrier1', caps: 80, maxConcurrent: 120 },
        { name: 'l2', gateway: 'carrier1', caps: 60, maxConcurrent: 80 },
      ],
      [{ name: 'Crash campaign', lines: ['l1', 'l2'], tasks: 800, numberOffset: 0, maxAttempts: 1 }],
    );

    // Kill it while calls are live and dispatch is in full flow.
    await eventually(
      () => (originates(sim!.groundTruth.entries()).length >= 250 ? true : undefined),
      30_000,
      '250 originates',
    );
    const liveAtKill = sim.nodes.reduce((n, node) => n + node.activeCalls(), 0);
    await first.child.kill('SIGKILL');
    expect(liveAtKill).toBeGreaterThan(0);

    const second = await startPlatformProcess(dir.path);
    platform = second.child;
    const counts = await eventually(
      async () => {
        const c = await taskStatusCounts(second.api, layout.campaignIds);
        return (c.queued ?? 0) + (c.dialing ?? 0) === 0 ? c : undefined;
      },
      60_000,
      'every task to reach a terminal status after the restart',
    );
    expect((counts.completed ?? 0) + (counts.expired ?? 0)).toBe(800);

    // No task was originated twice (maxAttempts is 1, so one accepted originate per task at most).
    const perTask = new Map<string, number>();
    for (const o of originates(sim.groundTruth.entries())) {
      if (!o.accepted) continue;
      const task = o.variables.sb_task ?? '?';
      perTask.set(task, (perTask.get(task) ?? 0) + 1);
    }
    const twice = [...perTask].filter(([, n]) => n > 1);
    expect(twice).toEqual([]);
    expect(perTask.size).toBeGreaterThan(250);

    // Calls that were live at the kill were taken over and followed to their real end, not all lost.
    const unknown = (
      await Promise.all(
        layout.campaignIds.map((id) =>
          second.api.get<{ stats: { byOutcome: Record<string, number> } }>(`/v1/campaigns/${id}`),
        ),
      )
    ).reduce((n, c) => n + (c.stats.byOutcome.unknown ?? 0), 0);
    expect(unknown).toBeLessThan(liveAtKill);
  }, 150_000);
});
