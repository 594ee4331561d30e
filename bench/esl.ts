/**
 * `npm run bench -- esl [capacity rate] [seconds] [connections]`: the Event Socket figures of
 * issue 3.
 *
 * Parse: our FrameParser + decodeMessage + the four headers a worker reads (Unique-ID,
 * Hangup-Cause, its tag variable, Job-UUID), and modesl's parser on the same bytes in the same run
 * (bench/_esl-parse.ts). Figures are per second of CPU time, because this machine is shared: wall
 * time also counts the time other processes held the core. Wall figures are reported alongside.
 *
 * Simulator capacity: one simulated switch in THIS process; the callers (worker-like EslClients
 * with the worker's events and three filters) in a second process (bench/_esl-capacity-clients.ts)
 * so that they do not take the simulator's core. Calls are answered after 1–2 s and then held, so
 * every call placed is still up at the end: the peak of concurrent calls is the number placed.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startSimCluster } from '../src/sim/index.js';
import { REPO_ROOT } from '../test/support/child.js';
import {
  buildStream,
  CHUNK_BYTES,
  chunksOf,
  compare,
  JSON_CALL_FIXTURES,
  type ParseRun,
  PLAIN_CALL_FIXTURES,
} from './_esl-parse.js';
import type { BenchFigures } from './run.js';

const PLAIN_STREAM_BYTES = 48 * 1024 * 1024;
const JSON_STREAM_BYTES = 16 * 1024 * 1024;
const ROUNDS = 5;

function round(value: number, digits = 0): number {
  return Number(value.toFixed(digits));
}

const perCpuSecond = (count: number, run: ParseRun) => count / (run.cpuMs / 1000);
const perWallSecond = (count: number, run: ParseRun) => count / (run.ms / 1000);

export function parseFigures(): BenchFigures {
  const plain = buildStream(PLAIN_CALL_FIXTURES, PLAIN_STREAM_BYTES);
  const { ours, modesl } = compare(chunksOf(plain), ROUNDS);
  if (ours.events !== modesl.events || ours.headersRead !== modesl.headersRead) {
    throw new Error(`parsers disagree: ours ${JSON.stringify(ours)} modesl ${JSON.stringify(modesl)}`);
  }
  const json = buildStream(JSON_CALL_FIXTURES, JSON_STREAM_BYTES);
  const jsonRuns = compare(chunksOf(json), ROUNDS);
  return {
    parse_mb_per_sec: round(perCpuSecond(plain.length / 1e6, ours), 1),
    parse_events_per_sec: round(perCpuSecond(ours.events, ours)),
    modesl_events_per_sec: round(perCpuSecond(modesl.events, modesl)),
    ratio_vs_modesl: round(modesl.cpuMs / ours.cpuMs, 2),
    parse_events_per_wall_sec: round(perWallSecond(ours.events, ours)),
    modesl_events_per_wall_sec: round(perWallSecond(modesl.events, modesl)),
    parse_stream: {
      bytes: plain.length,
      events: ours.events,
      headersReadEach: ours.headersRead,
      chunkBytes: CHUNK_BYTES,
      medianOfRounds: ROUNDS,
      fixtures: PLAIN_CALL_FIXTURES.map((name) => name.slice(0, 2)).join(','),
    },
    json_mb_per_sec: round(perCpuSecond(json.length / 1e6, jsonRuns.ours), 1),
    json_events_per_sec: round(perCpuSecond(jsonRuns.ours.events, jsonRuns.ours)),
    modesl_json_events_per_sec: round(perCpuSecond(jsonRuns.modesl.events, jsonRuns.modesl)),
  };
}

interface ClientReport {
  sent: number;
  accepted: number;
  refused: number;
  answered: number;
  failedJobs: number;
  foreignEvents: number;
  eventsByName: Record<string, number>;
  sendSeconds: number;
  allResultsSeconds: number;
  jobLagP50Ms: number;
  jobLagP99Ms: number;
  clientCpuSeconds: number;
}

export async function capacityFigures(
  rate: number,
  seconds: number,
  connections: number,
): Promise<BenchFigures> {
  const cluster = await startSimCluster({
    nodes: [{ name: 'fs1', port: 0, maxSessions: 1_000_000, sessionsPerSecond: 1_000_000 }],
    heartbeatIntervalMs: 2000,
    profile: {
      gateways: {
        carrier1: {
          answer: 1,
          busy: 0,
          noAnswer: 0,
          invalid: 0,
          congestion: 0,
          ringMs: { minMs: 1000, maxMs: 2000 },
          talkMs: { minMs: 3_600_000, maxMs: 3_600_000 },
        },
      },
    },
  });
  const node = cluster.nodes[0]!;
  const originateTimes: number[] = [];
  cluster.groundTruth.onEntry((entry) => {
    if (entry.type === 'originate' && entry.accepted) originateTimes.push(entry.atMs);
  });
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, node.activeCalls());
  }, 100);
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO_ROOT, 'bench/_esl-capacity-clients.ts'),
      String(node.port),
      String(connections),
      String(rate),
      String(seconds),
    ],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const report = await new Promise<ClientReport>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.indexOf('\n');
      if (line !== -1) resolve(JSON.parse(out.slice(0, line)) as ClientReport);
    });
    child.once('exit', (code) => reject(new Error(`capacity clients exited with ${code} before reporting`)));
  });
  const simCpu = process.cpuUsage(cpuBefore);
  const wallSeconds = (performance.now() - wallBefore) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, node.activeCalls());
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin.end();
  await exited;
  const rssMb = Math.round(process.memoryUsage().rss / 1e6);
  await cluster.close();
  const spanSeconds =
    originateTimes.length > 1 ? (originateTimes.at(-1)! - originateTimes[0]!) / 1000 : Number.NaN;
  return {
    sim_concurrent_calls: peak,
    sim_caps: round(originateTimes.length / spanSeconds),
    sim_capacity_run: {
      offeredRatePerSec: rate,
      seconds,
      connections,
      clientsIn: 'a second process (bench/_esl-capacity-clients.ts); the simulator alone in this one',
      originatesReceived: originateTimes.length,
      ...report,
      simCpuPercentOfOneCore: round(((simCpu.user + simCpu.system) / 1e6 / wallSeconds) * 100),
      simRssMb: rssMb,
    },
  };
}

export default async function eslBench(args: string[]): Promise<BenchFigures> {
  const rate = Number(args[0] ?? 3000);
  const seconds = Number(args[1] ?? 12);
  const connections = Number(args[2] ?? 8);
  const parse = parseFigures();
  const capacity = await capacityFigures(rate, seconds, connections);
  return { ...parse, ...capacity };
}
