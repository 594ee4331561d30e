import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { ApiClient } from '../../src/platform/api-client.js';
import { type Platform, startPlatform } from '../../src/platform/platform.js';
import { readGroundTruthFile } from '../../src/sim/index.js';
import { eventually, type RunningChild, runSwitchboard } from '../support/child.js';
import { maxConcurrentByLine, maxPerSecondByLine, originates } from '../support/ground-truth-checks.js';
import { type Layout, type LineSpec, setUpThroughApi, taskStatusCounts } from '../support/platform-setup.js';
import { FAST_CARRIERS } from '../support/sim-profiles.js';
import { makeTempDir } from '../support/temp-dir.js';

const LINES: LineSpec[] = [
  { name: 'c1-main', gateway: 'carrier1', caps: 60, maxConcurrent: 25 },
  { name: 'c1-backup', gateway: 'carrier1', caps: 40, maxConcurrent: 20 },
  { name: 'c2-main', gateway: 'carrier2', caps: 50, maxConcurrent: 20 },
];

/**
 * Acceptance of the walking skeleton: the platform in-process on a temp SQLite file, the simulator
 * in its own process (so its receive times are its own, as a real switch's are), 2,000 tasks in two
 * campaigns through the HTTP API, everything checked against the simulator's ground truth.
 */
describe('embedded platform end to end', () => {
  const dir = makeTempDir();
  const recordPath = join(dir.path, 'ground-truth.jsonl');
  let sim: RunningChild;
  let platform: Platform;
  let api: ApiClient;
  let layout: Layout;

  beforeAll(async () => {
    const profilePath = join(dir.path, 'profile.json');
    writeFileSync(profilePath, JSON.stringify(FAST_CARRIERS));
    sim = runSwitchboard([
      'sim',
      '--nodes',
      '2',
      '--port',
      '0',
      '--sps',
      '300',
      '--seed',
      '7',
      '--time-scale',
      '0.3',
      '--profile',
      profilePath,
      '--record',
      recordPath,
    ]);
    const ports = await Promise.all([
      sim.waitFor(/sim node sim-1 listening on ([\d.]+):(\d+)/),
      sim.waitFor(/sim node sim-2 listening on ([\d.]+):(\d+)/),
    ]);
    platform = await startPlatform({
      // The guard covers the switch's receive jitter. Our simulated switch is a Node process on the
      // same loaded 2-core machine whose reads lag by tens of ms at times (a real FreeSWITCH on a
      // LAN: a few ms, hence the 10 ms default); the limits are judged by its clock.
      config: {
        ...DEFAULT_CONFIG,
        dataDir: dir.path,
        httpPort: 0,
        apiKey: 'e2e-key-0123456789abcdefghij',
        logLevel: 'warn',
        capsGuardMs: 60,
      },
      logger: createLogger('error'),
    });
    api = new ApiClient(platform.url, platform.apiKey);
    layout = await setUpThroughApi(
      api,
      ports.map((m, i) => ({ name: `sim-${i + 1}`, host: m[1]!, port: Number(m[2]) })),
      ['carrier1', 'carrier2'],
      LINES,
      [
        {
          name: 'Renewals',
          lines: ['c1-main', 'c1-backup'],
          tasks: 1000,
          numberOffset: 0,
          maxAttempts: 2,
          retryDelaySec: { busy: 1, no_answer: 1, network_failure: 1, rejected: 1 },
          ringTimeoutSec: 10,
        },
        {
          name: 'Callbacks',
          lines: ['c1-backup', 'c2-main'],
          tasks: 1000,
          numberOffset: 5000,
          maxAttempts: 2,
          retryDelaySec: { busy: 1, no_answer: 2, network_failure: 1, rejected: 1 },
          ringTimeoutSec: 10,
        },
      ],
    );
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
    await sim?.kill('SIGTERM');
    dir.remove();
  });

  it('takes 2,000 tasks to a terminal status within every line limit, dialing exactly what it recorded', async () => {
    await eventually(
      async () => {
        const counts = await taskStatusCounts(api, layout.campaignIds);
        return (counts.queued ?? 0) + (counts.dialing ?? 0) === 0 ? counts : undefined;
      },
      90_000,
      'every task to reach a terminal status',
    );
    await platform.worker.flush();
    const counts = await taskStatusCounts(api, layout.campaignIds);
    expect((counts.completed ?? 0) + (counts.expired ?? 0) + (counts.cancelled ?? 0)).toBe(2000);

    await sim.kill('SIGTERM'); // flushes and closes the ground-truth file
    const truth = readGroundTruthFile(recordPath);
    const received = originates(truth);

    // Every attempt the platform sent is one originate on a switch, and nothing else was dialed.
    const sent = new Set<string>();
    const notSent = new Set(['SWITCH_NOT_CONNECTED', 'INVALID_ORIGINATE']);
    for (const taskId of layout.taskIds) {
      // Straight from the store: 2,000 GETs would (rightly) trip the per-key API rate limit.
      const task = await platform.store.tasks.get(platform.tenantId, taskId);
      for (const attempt of task?.attempts ?? [])
        if (!notSent.has(attempt.hangupCause ?? '')) sent.add(attempt.id);
    }
    const receivedIds = received.map((o) => o.uuid);
    expect(new Set(receivedIds).size).toBe(receivedIds.length);
    expect(new Set(receivedIds)).toEqual(sent);

    // Limits, measured on the switch's side.
    const perSecond = maxPerSecondByLine(truth);
    const concurrent = maxConcurrentByLine(truth);
    for (const line of LINES) {
      const id = layout.lineIds.get(line.name)!;
      expect(perSecond.get(id) ?? 0, `${line.name} CAPS`).toBeLessThanOrEqual(line.caps);
      expect(concurrent.get(id) ?? 0, `${line.name} concurrency`).toBeLessThanOrEqual(line.maxConcurrent);
      expect(perSecond.get(id) ?? 0, `${line.name} used`).toBeGreaterThan(0);
    }
    const metrics = await (await fetch(`${platform.url}/metrics`)).text();
    expect(metrics).toMatch(/switchboard_call_attempts_total\{outcome="answered"\} [1-9]/);
    expect(metrics).toContain('switchboard_calls_active 0');
    expect(metrics).toMatch(/switchboard_line_dispatched_total\{line="c1-main"\} [1-9]/);
    expect(metrics).toContain('switchboard_in_flight{level="line",resource="c2-main"} 0');
  }, 120_000);
});
