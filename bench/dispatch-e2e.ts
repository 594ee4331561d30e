/**
 * `npm run bench -- dispatch-e2e [caps] [seconds]`: the embedded platform (API + scheduler +
 * worker, SQLite) against two simulated switches in their own process. Tasks fall due on a
 * precise schedule at `caps` per second (default 1,000) with more line capacity than that, so
 * the figure is the platform's reaction, not queueing: from a task's due time to its originate
 * arriving on a switch (the simulator's own receive time).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DEFAULT_CONFIG } from '../src/config/config.js';
import { createLogger } from '../src/observability/logger.js';
import { ApiClient } from '../src/platform/api-client.js';
import { startPlatform } from '../src/platform/platform.js';
import { readGroundTruthFile } from '../src/sim/index.js';
import { runSwitchboard } from '../test/support/child.js';
import { makeTempDir } from '../test/support/temp-dir.js';
import type { BenchFigures } from './run.js';

const SHORT_CALLS = {
  gateways: {
    carrier1: {
      answer: 0.7,
      busy: 0.1,
      noAnswer: 0,
      invalid: 0.1,
      congestion: 0.1,
      ringMs: { minMs: 100, maxMs: 300 },
      talkMs: { minMs: 200, maxMs: 600 },
    },
  },
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A percentile read off a Prometheus histogram: the upper bound of the bucket it falls in. */
function histogramPercentile(
  values: Array<{ labels: Record<string, unknown>; value: number; metricName?: string }>,
  p: number,
): number {
  const buckets = values
    .filter((v) => v.metricName?.endsWith('_bucket'))
    .map((v) => ({
      le: v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le),
      count: v.value,
    }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  return buckets.find((b) => b.count >= (p / 100) * total)?.le ?? Number.NaN;
}

function round(value: number, digits = 2): number {
  return Number(value.toFixed(digits));
}

export default async function dispatchEndToEnd(args: string[]): Promise<BenchFigures> {
  const caps = Number(args[0] ?? 1000);
  const seconds = Number(args[1] ?? 20);
  const dir = makeTempDir('switchboard-bench-');
  const recordPath = join(dir.path, 'ground-truth.jsonl');
  const profilePath = join(dir.path, 'profile.json');
  writeFileSync(profilePath, JSON.stringify(SHORT_CALLS));
  const sim = runSwitchboard([
    'sim',
    '--nodes',
    '2',
    '--port',
    '0',
    '--sps',
    String(caps * 2),
    '--max-sessions',
    '20000',
    '--seed',
    '3',
    '--profile',
    profilePath,
    '--record',
    recordPath,
    '--heartbeat-ms',
    '5000',
  ]);
  try {
    const ports = await Promise.all([
      sim.waitFor(/sim node sim-1 listening on ([\d.]+):(\d+)/),
      sim.waitFor(/sim node sim-2 listening on ([\d.]+):(\d+)/),
    ]);
    const platform = await startPlatform({
      config: {
        ...DEFAULT_CONFIG,
        dataDir: dir.path,
        httpPort: 0,
        apiKey: 'bench-key-0123456789abcdefghij',
        logLevel: 'error',
        maxCalls: 20_000,
        // Steady state: slow start (30 s from start-up by default) would be measured instead.
        warmupMs: 0,
      },
      logger: createLogger('error'),
    });
    const api = new ApiClient(platform.url, platform.apiKey);
    const switchIds: string[] = [];
    for (const [i, m] of ports.entries()) {
      const created = await api.post<{ id: string }>('/v1/switches', {
        name: `sim-${i + 1}`,
        eslHost: m[1],
        eslPort: Number(m[2]),
        eslPassword: 'ClueCon',
        maxSessions: 10_000,
        maxCaps: caps,
        enabled: true,
      });
      switchIds.push(created.id);
    }
    const gateway = await api.post<{ id: string }>('/v1/gateways', {
      name: 'carrier1',
      switchIds,
      enabled: true,
    });
    const lineIds: string[] = [];
    for (let i = 0; i < 4; i++) {
      const line = await api.post<{ id: string }>('/v1/lines', {
        name: `line-${i}`,
        gatewayId: gateway.id,
        caps: Math.ceil((caps * 1.2) / 4),
        maxConcurrent: 5_000,
        numberFormat: 'national',
        enabled: true,
      });
      lineIds.push(line.id);
    }
    const campaign = await api.post<{ id: string }>('/v1/campaigns', {
      name: 'latency',
      lineIds,
      defaultRegion: 'CN',
      ringTimeoutSec: 10,
      maxCallDurationSec: 60,
      retryPolicy: { maxAttempts: 1 },
      selectionStrategy: 'round_robin',
    });

    // Tasks fall due one every 1/caps s, starting a few seconds out (after all are submitted).
    const total = caps * seconds;
    const firstDueMs = Date.now() + 5_000 + Math.ceil(total / 10_000) * 1_000;
    const dueOf = new Map<string, number>();
    for (let offset = 0; offset < total; offset += 10_000) {
      const tasks = Array.from({ length: Math.min(10_000, total - offset) }, (_, k) => {
        const i = offset + k;
        return {
          number: `+86139${String(10_000_000 + i).slice(-8)}`,
          notBefore: new Date(firstDueMs + (i * 1000) / caps).toISOString(),
        };
      });
      const result = await api.post<{ results: Array<{ id?: string; status: string }> }>(
        `/v1/campaigns/${campaign.id}/tasks/batch`,
        { tasks },
      );
      result.results.forEach((r, k) => {
        if (r.id) dueOf.set(r.id, Date.parse(tasks[k]!.notBefore));
      });
    }
    process.stderr.write(
      `dispatch-e2e: ${dueOf.size} tasks due from +${firstDueMs - Date.now()} ms at ${caps}/s\n`,
    );

    // Why the campaign is held, sampled every 5 s (stderr): the platform explaining itself.
    const explain = setInterval(async () => {
      const status = await platform.scheduler.dispatchStatus(platform.tenantId, campaign.id);
      process.stderr.write(
        `dispatch-e2e: ${JSON.stringify({ hold: status?.hold, inFlight: status?.inFlight, queued: status?.queued })}\n`,
      );
    }, 5000);
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    // Counting tasks is a GROUP BY over all of them, in this process: only once the run should be over.
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, firstDueMs + seconds * 1000 + 2_000 - Date.now())),
    );
    const deadline = firstDueMs + seconds * 1000 + 30_000;
    for (;;) {
      const stats = await platform.store.campaigns.stats(platform.tenantId, campaign.id);
      const open = stats.byStatus.queued + stats.byStatus.dialing;
      if (open === 0 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    clearInterval(explain);
    loopDelay.disable();
    const toWrite = (await platform.metrics.dispatchToOriginateMs.get()).values;
    const delay = (await platform.metrics.dispatchDelayMs.get()).values;
    await platform.stop();
    await sim.kill('SIGTERM');

    const originates = readGroundTruthFile(recordPath).filter((e) => e.type === 'originate');
    const latencies: number[] = [];
    for (const o of originates) {
      const due = dueOf.get(o.variables.sb_task ?? '');
      if (due !== undefined) latencies.push(o.atMs - due);
    }
    latencies.sort((a, b) => a - b);
    const times = originates.map((o) => o.atMs).sort((a, b) => a - b);
    const spanSec = times.length > 1 ? (times.at(-1)! - times[0]!) / 1000 : Number.NaN;
    return {
      target_caps: caps,
      tasks: dueOf.size,
      originates: originates.length,
      achieved_caps: round(originates.length / spanSec, 1),
      due_to_originate_p50_ms: round(percentile(latencies, 50)),
      due_to_originate_p99_ms: round(percentile(latencies, 99)),
      due_to_originate_max_ms: round(latencies.at(-1) ?? Number.NaN),
      originates_measured: latencies.length,
      // The platform's own side, from its histograms (bucket upper bounds): due → dispatch, dispatch → write.
      platform_due_to_dispatch_p50_ms_le: histogramPercentile(delay, 50),
      platform_due_to_dispatch_p99_ms_le: histogramPercentile(delay, 99),
      platform_dispatch_to_write_p99_ms_le: histogramPercentile(toWrite, 99),
      event_loop_delay_p99_ms: round(loopDelay.percentile(99) / 1e6),
      event_loop_delay_max_ms: round(loopDelay.max / 1e6),
      note: 'platform in-process (SQLite), simulator in its own process; latency = simulator receive time − task due time',
    };
  } finally {
    await sim.kill('SIGTERM');
    dir.remove();
  }
}
