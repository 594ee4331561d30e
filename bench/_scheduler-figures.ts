/**
 * Figures computed from a dispatch log alone — independent of the scheduler that wrote it, so the
 * same checks judge ours and the baseline: limits held (every half-open 1-s window, every instant),
 * utilization of saturated limits, weighted fairness, latency, answered calls.
 */
import { type DispatchLog, T0, type World, waterFill } from './_scheduler-world.js';

const SECOND_MS = 1000;

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

// ---- limits -------------------------------------------------------------------------------------

interface Limit {
  name: string;
  caps: number | null;
  maxConcurrent: number | null;
  /** Indices into the log of this resource's dispatches, in time order. */
  calls: number[];
}

function limitsOf(world: World, log: DispatchLog): Limit[] {
  const lines: Limit[] = world.lines.map((l) => ({
    name: l.id,
    caps: l.caps,
    maxConcurrent: l.maxConcurrent,
    calls: [],
  }));
  const switches: Limit[] = world.switches.map((s) => ({
    name: s.id,
    caps: s.maxCaps,
    maxConcurrent: s.maxSessions,
    calls: [],
  }));
  const tenants: Limit[] = world.tenants.map((t) => ({
    name: t.id,
    caps: t.maxCaps,
    maxConcurrent: t.maxConcurrent,
    calls: [],
  }));
  for (let i = 0; i < log.size; i++) {
    lines[log.line[i]!]!.calls.push(i);
    switches[log.switchIndex[i]!]!.calls.push(i);
    tenants[world.campaigns[log.campaign[i]!]!.tenantIndex]!.calls.push(i);
  }
  return [...lines, ...switches, ...tenants];
}

/** Dispatches that made some half-open 1-s window hold more than the CAPS. */
function capsViolations(limit: Limit, log: DispatchLog): number {
  const caps = limit.caps;
  if (caps === null) return 0;
  const n = Math.floor(caps);
  let violations = 0;
  for (let k = 0; k + n < limit.calls.length; k++) {
    if (log.startMs[limit.calls[k + n]!]! - log.startMs[limit.calls[k]!]! < SECOND_MS) violations++;
  }
  return violations;
}

/** Dispatches that took the resource above its concurrency cap (calls hold [start, end)). */
function concurrencyViolations(limit: Limit, log: DispatchLog): number {
  const max = limit.maxConcurrent;
  if (max === null) return 0;
  const ends = Float64Array.from(limit.calls, (i) => log.endMs[i]!).sort();
  let ended = 0;
  let violations = 0;
  limit.calls.forEach((i, started) => {
    const at = log.startMs[i]!;
    while (ended < ends.length && ends[ended]! <= at) ended++;
    if (started + 1 - ended > max) violations++;
  });
  return violations;
}

export interface LimitCheck {
  capsViolations: number;
  concurrencyViolations: number;
  worst: string;
}

export function checkLimits(world: World, log: DispatchLog): LimitCheck {
  let caps = 0;
  let concurrency = 0;
  let worst = 'none';
  let worstCount = 0;
  for (const limit of limitsOf(world, log)) {
    const c = capsViolations(limit, log);
    const k = concurrencyViolations(limit, log);
    caps += c;
    concurrency += k;
    if (c + k > worstCount) {
      worstCount = c + k;
      worst = `${limit.name}: ${c} caps, ${k} concurrency`;
    }
  }
  return { capsViolations: caps, concurrencyViolations: concurrency, worst };
}

// ---- utilization --------------------------------------------------------------------------------

export interface Utilization {
  min: number;
  p5: number;
  median: number;
  worst: string;
  measured: number;
}

/**
 * Over [fromMs, toMs) after T0, for each line that had backlog and stayed healthy (not in
 * `excludedLines`): max(dispatch rate ÷ CAPS, mean in flight ÷ max concurrent); and for each tenant
 * with its own CAPS, dispatch rate ÷ CAPS.
 */
export function utilization(
  world: World,
  log: DispatchLog,
  fromMs: number,
  toMs: number,
  excludedLines: ReadonlySet<number>,
): Utilization {
  const from = T0 + fromMs;
  const to = T0 + toMs;
  const seconds = (toMs - fromMs) / SECOND_MS;
  const started = world.lines.map(() => 0);
  const busyMs = world.lines.map(() => 0);
  const tenantStarted = world.tenants.map(() => 0);
  for (let i = 0; i < log.size; i++) {
    const s = log.startMs[i]!;
    const overlap = Math.min(log.endMs[i]!, to) - Math.max(s, from);
    if (overlap > 0) busyMs[log.line[i]!]! += overlap;
    if (s >= from && s < to) {
      started[log.line[i]!]!++;
      tenantStarted[world.campaigns[log.campaign[i]!]!.tenantIndex]!++;
    }
  }
  const entries: Array<{ name: string; value: number }> = [];
  for (const line of world.lines) {
    if (excludedLines.has(line.index)) continue;
    const byCaps = started[line.index]! / seconds / line.caps;
    const byConcurrency = busyMs[line.index]! / (toMs - fromMs) / line.maxConcurrent;
    entries.push({ name: `${line.id} (${line.boundBy}-bound)`, value: Math.max(byCaps, byConcurrency) });
  }
  for (const tenant of world.tenants) {
    if (tenant.maxCaps === null) continue;
    entries.push({
      name: `${tenant.id} CAPS`,
      value: tenantStarted[tenant.index]! / seconds / tenant.maxCaps,
    });
  }
  entries.sort((a, b) => a.value - b.value);
  const values = entries.map((e) => e.value);
  return {
    min: round(values[0] ?? Number.NaN, 4),
    p5: round(percentile(values, 0.05), 4),
    median: round(percentile(values, 0.5), 4),
    worst: entries[0] ? `${entries[0].name}: ${round(entries[0].value, 4)}` : 'none',
    measured: entries.length,
  };
}

/**
 * For each saturated line (healthy, backlogged), the share of [fromMs, toMs) during which it was
 * held at one of its own limits: its concurrency full, or its CAPS window full (N starts in the
 * trailing second). The rest is time when a call could have started on it under both limits and
 * none did — what the scheduler left unused. (A concurrency-bound line with a low CAPS loses ~1 %
 * of its concurrency to refills that its CAPS makes wait; that loss is the limits', not the
 * scheduler's, and `utilization` counts it.) Returns the lowest, with its line.
 */
export function heldAtLimits(
  world: World,
  log: DispatchLog,
  fromMs: number,
  toMs: number,
  excludedLines: ReadonlySet<number>,
): { min: number; worst: string } {
  const from = T0 + fromMs;
  const to = T0 + toMs;
  const perLine = world.lines.map(() => [] as number[]);
  for (let i = 0; i < log.size; i++) perLine[log.line[i]!]!.push(i);
  let min = Number.POSITIVE_INFINITY;
  let worst = 'none';
  for (const line of world.lines) {
    if (excludedLines.has(line.index)) continue;
    const calls = perLine[line.index]!;
    // +1 in flight at a start, -1 at an end; +1 in the window at a start, -1 a second later.
    const changes: Array<[number, number, number]> = [];
    for (const i of calls) {
      const start = log.startMs[i]!;
      changes.push([start, 1, 1], [log.endMs[i]!, -1, 0], [start + SECOND_MS, 0, -1]);
    }
    changes.sort((a, b) => a[0] - b[0]);
    const capacity = Math.max(1, Math.floor(line.caps));
    let inFlight = 0;
    let inWindow = 0;
    let open = 0;
    let k = 0;
    let at = from;
    // Apply everything up to the window's start, then sweep segment by segment.
    while (k < changes.length && changes[k]![0] <= from) {
      inFlight += changes[k]![1];
      inWindow += changes[k]![2];
      k++;
    }
    while (at < to) {
      const next = k < changes.length ? Math.min(changes[k]![0], to) : to;
      if (inFlight < line.maxConcurrent && inWindow < capacity) open += next - at;
      at = next;
      while (k < changes.length && changes[k]![0] <= at) {
        inFlight += changes[k]![1];
        inWindow += changes[k]![2];
        k++;
      }
    }
    const held = 1 - open / (to - from);
    if (held < min) {
      min = held;
      worst = `${line.id} (${line.boundBy}-bound)`;
    }
  }
  return { min: round(min, 4), worst: `${worst}: ${round(min, 4)}` };
}

// ---- fairness -----------------------------------------------------------------------------------

export interface Fairness {
  jain: number;
  /** Dispatched ÷ expected, lowest and highest over the campaigns. */
  minRatio: number;
  maxRatio: number;
  campaigns: number;
}

/**
 * Jain's index over backlogged campaigns of dispatched ÷ expected share in [fromMs, toMs): each
 * pool's dispatches split by tenant weight (water-filled around tenants' own CAPS), then by campaign
 * weight within the tenant.
 */
export function fairness(world: World, log: DispatchLog, fromMs: number, toMs: number): Fairness {
  const from = T0 + fromMs;
  const to = T0 + toMs;
  const dispatched = world.campaigns.map(() => 0);
  for (let i = 0; i < log.size; i++) {
    const s = log.startMs[i]!;
    if (s >= from && s < to) dispatched[log.campaign[i]!]!++;
  }
  const seconds = (toMs - fromMs) / SECOND_MS;
  const ratios: number[] = [];
  for (const pool of world.pools) {
    const total = pool.campaignIndices.reduce((sum, c) => sum + dispatched[c]!, 0);
    const tenants = pool.tenantIndices.map((t) => world.tenants[t]!);
    const tenantShares = waterFill(
      tenants.map((t) => t.weight),
      tenants.map((t) => (t.maxCaps === null ? null : t.maxCaps * seconds)),
      total,
    );
    tenants.forEach((tenant, k) => {
      const own = pool.campaignIndices.filter((c) => world.campaigns[c]!.tenantIndex === tenant.index);
      const weightSum = own.reduce((sum, c) => sum + world.campaigns[c]!.weight, 0);
      for (const c of own) {
        const expected = (tenantShares[k]! * world.campaigns[c]!.weight) / weightSum;
        if (expected > 0) ratios.push(dispatched[c]! / expected);
      }
    });
  }
  const sum = ratios.reduce((a, b) => a + b, 0);
  const squares = ratios.reduce((a, b) => a + b * b, 0);
  return {
    jain: round((sum * sum) / (ratios.length * squares), 4),
    minRatio: round(Math.min(...ratios), 3),
    maxRatio: round(Math.max(...ratios), 3),
    campaigns: ratios.length,
  };
}

// ---- latency and answers ------------------------------------------------------------------------

export interface Latency {
  p50: number;
  p99: number;
  max: number;
  measured: number;
}

/** Virtual ms from a task falling due to its dispatch, for tasks due in [fromMs, toMs). */
export function latency(log: DispatchLog, fromMs: number, toMs: number): Latency {
  const values: number[] = [];
  for (let i = 0; i < log.size; i++) {
    const due = log.dueMs[i]! - T0;
    if (due >= fromMs && due < toMs) values.push(log.startMs[i]! - log.dueMs[i]!);
  }
  return {
    p50: round(percentile(values, 0.5), 2),
    p99: round(percentile(values, 0.99), 2),
    max: round(Math.max(...values), 2),
    measured: values.length,
  };
}

/** Answered calls among the dispatches of tasks due in [fromMs, toMs). */
export function answeredCalls(log: DispatchLog, fromMs: number, toMs: number): number {
  let answered = 0;
  for (let i = 0; i < log.size; i++) {
    const due = log.dueMs[i]! - T0;
    if (due >= fromMs && due < toMs && log.answered[i]) answered++;
  }
  return answered;
}

/** Dispatches started in [fromMs, toMs) after T0. */
export function dispatchedBetween(log: DispatchLog, fromMs: number, toMs: number): number {
  let n = 0;
  for (let i = 0; i < log.size; i++) {
    const s = log.startMs[i]! - T0;
    if (s >= fromMs && s < toMs) n++;
  }
  return n;
}
