/**
 * `npm run bench -- cluster [caps] [seconds] [talkSeconds]`: the cluster on this one machine —
 * PostgreSQL, a Redis of its own, one api, two schedulers (one leads), three workers, and five
 * simulated switches in their own process. Tasks fall due evenly at `caps` per second (default
 * 500) for `seconds` (default 60); answered calls talk ~`talkSeconds` (default 45), so calls pile
 * up towards caps × hold time concurrent.
 *
 * Figures: what the switches received (sustained CAPS, most concurrent calls), due → originate
 * latency at the switch, and the ESL events and bytes each worker received with its switch-side
 * filter, against what one broadcast subscription (the same events, no filter) receives — R3.3's
 * fan-out: with n workers each should get about 1/n.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EslClient } from '../src/esl/index.js';
import { ApiClient } from '../src/platform/api-client.js';
import { readGroundTruthFile } from '../src/sim/index.js';
import { WORKER_EVENTS } from '../src/worker/switch-link.js';
import { type RunningChild, runSwitchboard } from '../test/support/child.js';
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from '../test/support/postgres.js';
import { freePort, PrivateRedis } from '../test/support/redis-server.js';
import { makeTempDir } from '../test/support/temp-dir.js';
import type { BenchFigures } from './run.js';

const API_KEY = 'cluster-bench-key-0123456789abcdef';
const WORKERS = 3;
const SWITCHES = 5;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** Sums a counter over its label sets from a Prometheus text exposition. */
function counterTotal(exposition: string, name: string): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.split(' ').at(-1));
  }
  return total;
}

export default async function clusterBench(args: string[]): Promise<BenchFigures> {
  const caps = Number(args[0] ?? 500);
  const seconds = Number(args[1] ?? 60);
  const talkSeconds = Number(args[2] ?? 45);
  const dir = makeTempDir('switchboard-bench-cluster-');
  const schema = freshSchemaName('bench');
  const redis = await PrivateRedis.start();
  const recordPath = join(dir.path, 'ground-truth.jsonl');
  const profilePath = join(dir.path, 'profile.json');
  writeFileSync(
    profilePath,
    JSON.stringify({
      gateways: {
        carrier1: {
          answer: 0.9,
          busy: 0.04,
          noAnswer: 0,
          invalid: 0.03,
          congestion: 0.03,
          ringMs: { minMs: 200, maxMs: 1_000 },
          talkMs: { minMs: (talkSeconds - 5) * 1000, maxMs: (talkSeconds + 5) * 1000 },
        },
      },
    }),
  );
  const children: RunningChild[] = [];
  const broadcast: EslClient[] = [];
  const env = {
    SWITCHBOARD_DATABASE_URL: TEST_DATABASE_URL,
    SWITCHBOARD_DATABASE_SCHEMA: schema,
    SWITCHBOARD_REDIS_URL: redis.url,
    SWITCHBOARD_REDIS_NAMESPACE: 'bench',
    SWITCHBOARD_DATA_DIR: dir.path,
    SWITCHBOARD_API_KEY: API_KEY,
    SWITCHBOARD_WARMUP_MS: '0',
    SWITCHBOARD_MAX_CALLS: '20000',
    SWITCHBOARD_LOG_LEVEL: 'warn',
  };
  const start = async (args: string[]): Promise<string> => {
    const child = runSwitchboard(['start', '--port', '0', ...args], {
      ...env,
      SWITCHBOARD_LOG_LEVEL: 'info',
    });
    children.push(child);
    const [, url] = await child.waitFor(/"url":"(http:\/\/[^"]+)".*cluster node started/, 60_000);
    return url!;
  };
  try {
    const sim = runSwitchboard([
      'sim',
      '--nodes',
      String(SWITCHES),
      '--port',
      '0',
      '--sps',
      String(caps),
      '--max-sessions',
      String(Math.ceil((caps * (talkSeconds + 10) * 1.5) / SWITCHES)),
      '--seed',
      '5',
      '--profile',
      profilePath,
      '--record',
      recordPath,
      '--heartbeat-ms',
      '5000',
    ]);
    children.push(sim);
    const nodes = await Promise.all(
      Array.from({ length: SWITCHES }, (_, i) =>
        sim.waitFor(new RegExp(`sim node sim-${i + 1} listening on ([\\d.]+):(\\d+)`)),
      ),
    );
    // Key material is made once by the first process and shared through the data folder.
    const apiPort = await freePort();
    await start(['--role', 'api', '--port', String(apiPort)]);
    const api = new ApiClient(`http://127.0.0.1:${apiPort}`, API_KEY);
    const switchIds: string[] = [];
    for (const [i, m] of nodes.entries()) {
      const created = await api.post<{ id: string }>('/v1/switches', {
        name: `sim-${i + 1}`,
        eslHost: m[1],
        eslPort: Number(m[2]),
        eslPassword: 'ClueCon',
        maxSessions: 20_000,
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
    for (let i = 0; i < 5; i++) {
      const line = await api.post<{ id: string }>('/v1/lines', {
        name: `line-${i}`,
        gatewayId: gateway.id,
        caps: Math.ceil((caps * 1.2) / 5),
        maxConcurrent: 20_000,
        numberFormat: 'national',
        enabled: true,
      });
      lineIds.push(line.id);
    }
    const campaign = await api.post<{ id: string }>('/v1/campaigns', {
      name: 'cluster bench',
      lineIds,
      defaultRegion: 'CN',
      ringTimeoutSec: 10,
      maxCallDurationSec: talkSeconds + 30,
      retryPolicy: { maxAttempts: 1 },
      selectionStrategy: 'round_robin',
    });
    const workerUrls = await Promise.all(
      Array.from({ length: WORKERS }, (_, i) => start(['--role', 'worker', '--worker-id', `w${i + 1}`])),
    );
    await start(['--role', 'scheduler']);
    await start(['--role', 'scheduler']);

    // What one subscriber without a filter receives from every switch (the broadcast baseline).
    for (const m of nodes) {
      const client = new EslClient({
        host: m[1]!,
        port: Number(m[2]),
        password: 'ClueCon',
        events: WORKER_EVENTS,
        reconnect: false,
      });
      let events = 0;
      client.onEvent(() => events++);
      client.start();
      await client.ready();
      broadcast.push(Object.assign(client, { counted: () => events }));
    }
    const broadcastEvents = () =>
      broadcast.reduce((n, c) => n + (c as EslClient & { counted(): number }).counted(), 0);
    const broadcastBytes = () => broadcast.reduce((n, c) => n + c.bytesReceived, 0);
    const workerCounters = async () => {
      const texts = await Promise.all(workerUrls.map((url) => fetch(`${url}/metrics`).then((r) => r.text())));
      return texts.map((t) => ({
        events: counterTotal(t, 'switchboard_esl_events_received_total'),
        bytes: counterTotal(t, 'switchboard_esl_bytes_received_total'),
      }));
    };

    const total = caps * seconds;
    const firstDueMs = Date.now() + 8_000 + Math.ceil(total / 10_000) * 1_500;
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
      `cluster: ${dueOf.size} tasks due from +${firstDueMs - Date.now()} ms at ${caps}/s\n`,
    );
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, firstDueMs - Date.now())));
    const before = { workers: await workerCounters(), events: broadcastEvents(), bytes: broadcastBytes() };
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 5_000));
    const after = { workers: await workerCounters(), events: broadcastEvents(), bytes: broadcastBytes() };

    for (const child of children.slice(1)) await child.kill('SIGTERM');
    await sim.kill('SIGTERM');
    const truth = readGroundTruthFile(recordPath);
    const originates = truth.filter((e) => e.type === 'originate' && e.accepted);
    const latencies: number[] = [];
    for (const o of originates) {
      if (o.type !== 'originate') continue;
      const due = dueOf.get(o.variables.sb_task ?? '');
      if (due !== undefined) latencies.push(o.atMs - due);
    }
    latencies.sort((a, b) => a - b);
    // Concurrent calls on all switches, from their own originate and hang-up times.
    const points: Array<[number, number]> = [];
    for (const e of truth) {
      if (e.type === 'originate' && e.accepted) points.push([e.atMs, 1]);
      else if (e.type === 'hangup') points.push([e.atMs, -1]);
    }
    points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let up = 0;
    let mostUp = 0;
    for (const [, delta] of points) {
      up += delta;
      mostUp = Math.max(mostUp, up);
    }
    // Sustained CAPS: originates in the middle of the run (ramp and tail left out).
    const steadyFrom = firstDueMs + 5_000;
    const steadyTo = firstDueMs + (seconds - 5) * 1000;
    const steady = originates.filter((o) => o.atMs >= steadyFrom && o.atMs < steadyTo).length;
    const perWorker = after.workers.map((w, i) => ({
      events: w.events - before.workers[i]!.events,
      bytes: w.bytes - before.workers[i]!.bytes,
    }));
    const eventsPerWorker = perWorker.reduce((n, w) => n + w.events, 0) / WORKERS;
    const bytesPerWorker = perWorker.reduce((n, w) => n + w.bytes, 0) / WORKERS;
    const eventsBroadcast = after.events - before.events;
    const bytesBroadcast = after.bytes - before.bytes;
    return {
      caps_target: caps,
      seconds,
      tasks: dueOf.size,
      originated: originates.length,
      sustained_caps: round(steady / ((steadyTo - steadyFrom) / 1000), 1),
      concurrent_calls: mostUp,
      dispatch_latency_p50_ms: percentile(latencies, 50),
      dispatch_latency_p99_ms: percentile(latencies, 99),
      dispatch_latency_max_ms: latencies.at(-1) ?? Number.NaN,
      events_per_worker: Math.round(eventsPerWorker),
      events_per_worker_broadcast: eventsBroadcast,
      event_fanout_ratio: round(eventsPerWorker / eventsBroadcast, 3),
      bytes_per_worker: Math.round(bytesPerWorker),
      bytes_per_worker_broadcast: bytesBroadcast,
      byte_fanout_ratio: round(bytesPerWorker / bytesBroadcast, 3),
      events_by_worker: perWorker.map((w) => w.events).join(','),
      workers: WORKERS,
      switches: SWITCHES,
    };
  } finally {
    for (const client of broadcast) await client.close().catch(() => {});
    for (const child of children) await child.kill('SIGKILL');
    // SB_BENCH_LOGS=<dir>: every process's log, to see what a slow run was doing.
    const logDir = process.env.SB_BENCH_LOGS;
    if (logDir) {
      mkdirSync(logDir, { recursive: true });
      for (const [i, child] of children.entries())
        writeFileSync(join(logDir, `process-${i}.log`), child.output());
    }
    await redis.stop();
    await dropSchema(schema).catch(() => {});
    dir.remove();
  }
}
