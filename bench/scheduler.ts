/**
 * `npm run bench -- scheduler [seed]`: the dispatch core on a seeded synthetic workload on a
 * virtual clock, against a baseline that follows the seed literally. See docs/benchmarks.md for
 * the workload, the figures and what they mean. Progress goes to stderr.
 *
 * Four phases, each a fresh core on the same seed:
 * - light:     full scale, Poisson demand at 50 % of every limit: latency, answer-rate gain.
 * - saturated: full scale, every campaign backlogged: decisions/s and limits under saturation.
 * - long:      reduced scale (the full one cannot run for minutes, see the doc), backlogged, with
 *              a line failing and a switch overloaded: utilization, fairness, health, overload.
 * - health:    the core's default health policy under light load: false ejections at start-up.
 */

import { DEFAULT_HEALTH_POLICY, type HealthPolicy } from '../src/scheduler/line-health.js';
import { runBaseline } from './_scheduler-baseline.js';
import { type RunResult, runCore } from './_scheduler-core-run.js';
import {
  answeredCalls,
  checkLimits,
  dispatchedBetween,
  fairness,
  type LimitCheck,
  latency,
  round,
  utilization,
} from './_scheduler-figures.js';
import {
  buildWorld,
  chooseFailingLine,
  type Disturbances,
  poissonDemand,
  WORLD_SHAPE,
  type World,
  type WorldShape,
} from './_scheduler-world.js';
import type { BenchFigures } from './run.js';

/**
 * Every phase runs the default health policy. (Before answers were counted when they happen, the
 * dead-line rule ejected healthy lines at start-up and had to be switched off here.)
 */
const HEALTH_POLICY: HealthPolicy = DEFAULT_HEALTH_POLICY;

const LIGHT = { warmUpMs: 35_000, measureFromMs: 60_000, endMs: 150_000, load: 0.5 } as const;
const SATURATED = { endMs: 300 } as const;
const LONG_SHAPE: WorldShape = { ...WORLD_SHAPE, linesPerGateway: 2, campaigns: 60 };
const LONG = {
  endMs: 420_000,
  steadyFromMs: 60_000,
  steadyToMs: 150_000,
  overloadFromMs: 150_000,
  overloadUntilMs: 240_000,
  lineFailsAtMs: 160_000,
  lineRecoversAtMs: 280_000,
} as const;
const HEALTH_SHAPE: WorldShape = { ...WORLD_SHAPE, tenants: 5, campaigns: 5 };
const HEALTH = { endMs: 150_000 } as const;

function progress(message: string): void {
  process.stderr.write(`[scheduler bench] ${message}\n`);
}

async function timed<T>(label: string, run: () => T): Promise<T> {
  const started = performance.now();
  const result = run();
  progress(`${label}: ${((performance.now() - started) / 1000).toFixed(1)} s wall`);
  // Let stderr flush between phases.
  await new Promise<void>((resolve) => setImmediate(resolve));
  return result;
}

function decisionsPerSecond(run: RunResult): number {
  return Math.round(run.log.size / (run.decideWallMs / 1000));
}

function sumChecks(checks: LimitCheck[]): { caps: number; concurrency: number } {
  return {
    caps: checks.reduce((sum, c) => sum + c.capsViolations, 0),
    concurrency: checks.reduce((sum, c) => sum + c.concurrencyViolations, 0),
  };
}

export default async function schedulerBench(args: string[]): Promise<BenchFigures> {
  const seed = Number(args[0] ?? 42);
  const world = buildWorld(seed);
  progress(
    `world: ${world.campaigns.length} campaigns, ${world.tenants.length} tenants, ${world.lines.length} lines, ` +
      `${world.switches.length} switches; pool capacity ${world.pools.map((p) => Math.round(p.capacityPerSecond)).join('/')} calls/s`,
  );
  const light = await lightPhase(world, seed);
  const saturated = await saturatedPhase(world, seed);
  const long = await longPhase(seed);
  const health = await healthPhase(seed);
  const ours = sumChecks([...light.checks, saturated.check, long.check]);
  const baseline = sumChecks([light.baselineCheck, long.baselineCheck]);
  return {
    seed,
    caps_guard_ms: 0,
    decisions_per_sec: saturated.decisionsPerSec,
    decisions_per_sec_light: light.decisionsPerSec,
    decisions_per_sec_long: long.decisionsPerSec,
    dispatch_latency_p50_ms: light.latency.p50,
    dispatch_latency_p99_ms: light.latency.p99,
    dispatch_latency_max_ms: light.latency.max,
    caps_violations: ours.caps,
    concurrency_violations: ours.concurrency,
    utilization_min: long.utilization.min,
    utilization_p5: long.utilization.p5,
    utilization_median: long.utilization.median,
    utilization_worst: long.utilization.worst,
    jain_fairness: long.fairness.jain,
    fairness_min_ratio: long.fairness.minRatio,
    fairness_max_ratio: long.fairness.maxRatio,
    answer_rate_gain: round(light.answeredArf / light.answeredRoundRobin),
    answered_answer_rate_first: light.answeredArf,
    answered_round_robin: light.answeredRoundRobin,
    overload_dispatches: long.overloadDispatches,
    failed_line_dispatches_while_failing: long.failingLineDispatches,
    failed_line_health: long.healthLog,
    health_default_policy: health,
    baseline_decisions_per_sec: long.baselineDecisionsPerSec,
    baseline_dispatch_latency_p50_ms: light.baselineLatency.p50,
    baseline_dispatch_latency_p99_ms: light.baselineLatency.p99,
    baseline_caps_violations: baseline.caps,
    baseline_concurrency_violations: baseline.concurrency,
    baseline_utilization_min: long.baselineUtilization.min,
    baseline_utilization_p5: long.baselineUtilization.p5,
    baseline_utilization_median: long.baselineUtilization.median,
    baseline_jain_fairness: long.baselineFairness.jain,
    baseline_answered: light.answeredBaseline,
    baseline_overload_dispatches: long.baselineOverloadDispatches,
    baseline_failed_line_dispatches_while_failing: long.baselineFailingLineDispatches,
    latency_p99_ratio: round(light.baselineLatency.p99 / Math.max(light.latency.p99, 1), 1),
    fairness_delta: round(long.fairness.jain - long.baselineFairness.jain, 4),
    answered_ratio: round(light.answeredArf / light.answeredBaseline),
    utilization_min_delta: round(long.utilization.min - long.baselineUtilization.min, 4),
    phases: {
      light: light.summary,
      saturated: saturated.summary,
      long: long.summary,
    },
  };
}

// ---- phases ---------------------------------------------------------------------------------------

async function lightPhase(world: World, seed: number) {
  const due = poissonDemand(world, seed + 10, LIGHT.load, LIGHT.warmUpMs, LIGHT.endMs);
  const tasks = due.reduce((sum, d) => sum + d.length, 0);
  const demand = { kind: 'due' as const, dueMs: due };
  const common = {
    world,
    seed,
    durationMs: LIGHT.endMs,
    demand,
    disturbances: null,
    health: HEALTH_POLICY,
  };
  const arf = await timed('light, answer-rate first', () =>
    runCore({ ...common, strategy: 'answer_rate_first' }),
  );
  const rr = await timed('light, round robin', () => runCore({ ...common, strategy: 'round_robin' }));
  const baseline = await timed('light, baseline', () =>
    runBaseline({
      world,
      seed,
      durationMs: LIGHT.endMs,
      demand,
      selection: 'round_robin',
      disturbances: null,
    }),
  );
  const window = [LIGHT.measureFromMs, LIGHT.endMs] as const;
  const check = checkLimits(world, arf.log);
  const rrCheck = checkLimits(world, rr.log);
  return {
    decisionsPerSec: decisionsPerSecond(arf),
    latency: latency(arf.log, ...window),
    baselineLatency: latency(baseline.log, ...window),
    answeredArf: answeredCalls(arf.log, ...window),
    answeredRoundRobin: answeredCalls(rr.log, ...window),
    answeredBaseline: answeredCalls(baseline.log, ...window),
    checks: [check, rrCheck],
    baselineCheck: checkLimits(world, baseline.log),
    summary: {
      tasks,
      dispatched: arf.log.size,
      round_robin_latency: latency(rr.log, ...window),
      baseline_dispatched: baseline.log.size,
      acquires_per_dispatch: round(arf.acquireCalls / arf.log.size, 2),
      health_changes: arf.healthEvents.length,
      stale_wakes: arf.staleWakes,
      limits: check.worst,
      baseline_limits: checkLimits(world, baseline.log).worst,
    },
  };
}

async function saturatedPhase(world: World, seed: number) {
  // No slow start here: the figure is the steady cost of a decision, not the ramp.
  const run = await timed('saturated, full scale', () =>
    runCore({
      world,
      seed,
      durationMs: SATURATED.endMs,
      demand: { kind: 'backlog' },
      disturbances: null,
      health: HEALTH_POLICY,
      warmupMs: 0,
    }),
  );
  const check = checkLimits(world, run.log);
  return {
    decisionsPerSec: decisionsPerSecond(run),
    check,
    summary: {
      virtual_ms: SATURATED.endMs,
      dispatched: run.log.size,
      decide_calls: run.decideCalls,
      decide_wall_ms: Math.round(run.decideWallMs),
      acquires_per_dispatch: round(run.acquireCalls / run.log.size, 1),
      limits: check.worst,
    },
  };
}

async function longPhase(seed: number) {
  const world = buildWorld(seed, LONG_SHAPE);
  const disturbances: Disturbances = {
    failingLine: chooseFailingLine(world),
    lineFailsAtMs: LONG.lineFailsAtMs,
    lineRecoversAtMs: LONG.lineRecoversAtMs,
    overloadedSwitch: 4,
    overloadFromMs: LONG.overloadFromMs,
    overloadUntilMs: LONG.overloadUntilMs,
  };
  const spec = { world, seed, durationMs: LONG.endMs, demand: { kind: 'backlog' as const }, disturbances };
  const ours = await timed('long, reduced scale', () => runCore({ ...spec, health: HEALTH_POLICY }));
  const baseline = await timed('long, baseline', () => runBaseline({ ...spec, selection: 'round_robin' }));
  // Lines that were not healthy at some point up to the end of the steady window are not "saturated limits".
  const unhealthy = new Set(
    ours.healthEvents.filter((h) => h.atMs < LONG.steadyToMs).map((h) => h.lineIndex),
  );
  const steady = [LONG.steadyFromMs, LONG.steadyToMs] as const;
  const check = checkLimits(world, ours.log);
  return {
    decisionsPerSec: decisionsPerSecond(ours),
    baselineDecisionsPerSec: Math.round(baseline.log.size / (baseline.tickWallMs / 1000)),
    check,
    baselineCheck: checkLimits(world, baseline.log),
    utilization: utilization(world, ours.log, ...steady, unhealthy),
    baselineUtilization: utilization(world, baseline.log, ...steady, new Set()),
    fairness: fairness(world, ours.log, ...steady),
    baselineFairness: fairness(world, baseline.log, ...steady),
    overloadDispatches: ours.overloadDispatches,
    baselineOverloadDispatches: baseline.overloadDispatches,
    failingLineDispatches: ours.failingLineDispatches,
    baselineFailingLineDispatches: baseline.failingLineDispatches,
    healthLog: ours.healthEvents
      .filter((h) => h.lineIndex === disturbances.failingLine)
      .map((h) => `${(h.atMs / 1000).toFixed(1)} s ${h.from}→${h.to} (${h.reason})`)
      .join('; '),
    summary: {
      shape: `${world.campaigns.length} campaigns, ${world.tenants.length} tenants, ${world.lines.length} lines, ${world.switches.length} switches`,
      virtual_ms: LONG.endMs,
      dispatched: ours.log.size,
      baseline_dispatched: baseline.log.size,
      dispatched_steady: dispatchedBetween(ours.log, ...steady),
      baseline_dispatched_steady: dispatchedBetween(baseline.log, ...steady),
      answered: ours.log.answered.filter(Boolean).length,
      baseline_answered: baseline.log.answered.filter(Boolean).length,
      utilization_measured:
        ours.log.size > 0 ? utilization(world, ours.log, ...steady, unhealthy).measured : 0,
      baseline_utilization_worst: utilization(world, baseline.log, ...steady, new Set()).worst,
      fairness_campaigns: fairness(world, ours.log, ...steady).campaigns,
      acquires_per_dispatch: round(ours.acquireCalls / ours.log.size, 1),
      health_changes: ours.healthEvents.length,
      stale_wakes: ours.staleWakes,
      expired_leases: ours.expiredLeases,
      limits: check.worst,
      baseline_limits: checkLimits(world, baseline.log).worst,
    },
  };
}

/** One campaign per pool (no herd), light load, the core's default health policy. */
async function healthPhase(seed: number) {
  const world = buildWorld(seed, HEALTH_SHAPE);
  const due = poissonDemand(world, seed + 10, LIGHT.load, LIGHT.warmUpMs, HEALTH.endMs);
  const run = await timed('health, default policy', () =>
    runCore({
      world,
      seed,
      durationMs: HEALTH.endMs,
      demand: { kind: 'due', dueMs: due },
      disturbances: null,
    }),
  );
  const count = (to: string, reason?: string) =>
    run.healthEvents.filter((h) => h.to === to && (reason === undefined || h.reason === reason)).length;
  const ejected = new Set(run.healthEvents.filter((h) => h.to === 'ejected').map((h) => h.lineIndex));
  return {
    lines: world.lines.length,
    failing_lines: 0,
    lines_ejected: ejected.size,
    dead_line_ejections: count('ejected', 'dead_line'),
    probes_failed: count('ejected', 'probe_failed'),
    probes_passed: count('healthy', 'probe_passed'),
    first_ejection_s: round((run.healthEvents.find((h) => h.to === 'ejected')?.atMs ?? Number.NaN) / 1000, 1),
    dispatched: run.log.size,
    tasks: due.reduce((sum, d) => sum + d.length, 0),
  };
}
