/**
 * The synthetic world of the scheduler benchmark: tenants, campaigns, lines, gateways and switches
 * drawn from a seed, the carrier's behaviour per line (true answer rate, outcome mix, durations),
 * and the dispatch log that every run — ours and the baseline — writes for the checks.
 */
import type { Outcome } from '../src/domain/outcome.js';
import type { SelectionStrategy } from '../src/domain/resources.js';

/** Virtual epoch: a Monday 09:00 UTC, on a minute boundary so per-minute answer-rate buckets align. */
export const T0 = Date.UTC(2027, 0, 4, 9, 0, 0);
const SECOND_MS = 1000;

/** mulberry32: small, fast, seeded; every run of the bench decides and draws the same. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uniform(random: () => number, min: number, max: number): number {
  return min + (max - min) * random();
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

export interface LineSpec {
  index: number;
  id: string;
  gatewayIndex: number;
  poolIndex: number;
  caps: number;
  maxConcurrent: number;
  /** The carrier's true answer rate, unknown to the scheduler. */
  answerRate: number;
  /** Which limit the line was drawn to hit first when saturated. */
  boundBy: 'caps' | 'concurrency';
}

export interface GatewaySpec {
  index: number;
  id: string;
  switchIndices: [number, number];
}

export interface SwitchSpec {
  index: number;
  id: string;
  maxCaps: number;
  maxSessions: number;
}

export interface TenantSpec {
  index: number;
  id: string;
  poolIndex: number;
  weight: number;
  maxCaps: number | null;
  maxConcurrent: number;
}

export interface CampaignSpec {
  index: number;
  id: string;
  tenantIndex: number;
  poolIndex: number;
  weight: number;
  strategy: SelectionStrategy;
}

export interface Pool {
  lineIndices: number[];
  tenantIndices: number[];
  campaignIndices: number[];
  /** Steady-state dispatches per second the pool's lines can carry: Σ min(CAPS, max concurrent ÷ mean call). */
  capacityPerSecond: number;
}

export interface World {
  lines: LineSpec[];
  gateways: GatewaySpec[];
  switches: SwitchSpec[];
  tenants: TenantSpec[];
  campaigns: CampaignSpec[];
  pools: Pool[];
}

export interface WorldShape {
  switches: number;
  gateways: number;
  linesPerGateway: number;
  pools: number;
  tenants: number;
  campaigns: number;
}

export const WORLD_SHAPE: Readonly<WorldShape> = {
  switches: 10,
  gateways: 20,
  linesPerGateway: 10,
  pools: 5,
  tenants: 20,
  campaigns: 1000,
};

// ---- the carrier --------------------------------------------------------------------------------

/** Share of each outcome among calls that are not answered; durations in seconds. */
const UNANSWERED_MIX: ReadonlyArray<{ outcome: Outcome; share: number; minS: number; maxS: number }> = [
  { outcome: 'no_answer', share: 0.55, minS: 30, maxS: 30 },
  { outcome: 'busy', share: 0.25, minS: 1, maxS: 5 },
  { outcome: 'rejected', share: 0.08, minS: 1, maxS: 3 },
  { outcome: 'invalid_number', share: 0.05, minS: 1, maxS: 3 },
  { outcome: 'network_failure', share: 0.07, minS: 0.5, maxS: 2 },
];
const RING_S = [2, 10] as const;
const TALK_S = [10, 90] as const;

/** A failing line: answers collapse and the network fails most calls (R3.10). */
const FAILING = { answerRate: 0.02, networkFailureShare: 0.7 } as const;

export function meanCallSeconds(answerRate: number): number {
  const answered = (RING_S[0] + RING_S[1]) / 2 + (TALK_S[0] + TALK_S[1]) / 2;
  const unanswered = UNANSWERED_MIX.reduce((sum, m) => sum + (m.share * (m.minS + m.maxS)) / 2, 0);
  return answerRate * answered + (1 - answerRate) * unanswered;
}

export interface CallResult {
  outcome: Outcome;
  durationMs: number;
  /** For answered calls: when the callee picked up (the worker reports it then, at CHANNEL_ANSWER). */
  answerAfterMs?: number;
}

/**
 * What the carrier does with one call. `luck` is the task's own uniform draw, so two runs that send
 * the same task down lines of different quality see common random numbers (a fairer A/B).
 */
export function placeCall(
  line: LineSpec,
  isFailing: boolean,
  luck: number,
  random: () => number,
): CallResult {
  if (isFailing) {
    if (luck < FAILING.answerRate) return answered(random);
    const outcome: Outcome = random() < FAILING.networkFailureShare ? 'network_failure' : 'busy';
    return { outcome, durationMs: uniform(random, 0.5, 2) * SECOND_MS };
  }
  if (luck < line.answerRate) return answered(random);
  let u = random();
  for (const mix of UNANSWERED_MIX) {
    if (u < mix.share)
      return { outcome: mix.outcome, durationMs: uniform(random, mix.minS, mix.maxS) * SECOND_MS };
    u -= mix.share;
  }
  return { outcome: 'no_answer', durationMs: 30 * SECOND_MS };
}

function answered(random: () => number): CallResult {
  const ring = uniform(random, RING_S[0], RING_S[1]);
  const talk = uniform(random, TALK_S[0], TALK_S[1]);
  return { outcome: 'answered', durationMs: (ring + talk) * SECOND_MS, answerAfterMs: ring * SECOND_MS };
}

// ---- the world ----------------------------------------------------------------------------------

/**
 * 200 lines on 20 gateways (10 lines each) on 10 switches, each gateway on 2 switches; 5 pools of
 * 4 gateways, each pool shared by 4 tenants, so tenants compete for the same lines. Half the lines
 * are drawn to saturate on CAPS and half on concurrency, far enough from the other limit that
 * "saturated" is unambiguous.
 */
export function buildWorld(seed: number, shape: WorldShape = WORLD_SHAPE): World {
  const random = seeded(seed);
  const switches: SwitchSpec[] = Array.from({ length: shape.switches }, (_, index) => ({
    index,
    id: `sw${index}`,
    // Generous: lines are the binding limits; switches are checked, and one is overloaded mid-run.
    maxCaps: 600,
    maxSessions: 12_000,
  }));
  const gateways: GatewaySpec[] = Array.from({ length: shape.gateways }, (_, index) => ({
    index,
    id: `gw${index}`,
    switchIndices: [index % shape.switches, (index + 3) % shape.switches],
  }));
  const gatewaysPerPool = shape.gateways / shape.pools;
  const lines: LineSpec[] = [];
  for (const gateway of gateways) {
    for (let k = 0; k < shape.linesPerGateway; k++) {
      const index = lines.length;
      const caps = 2 + Math.floor(random() * 19);
      const answerRate = uniform(random, 0.15, 0.75);
      const natural = caps * meanCallSeconds(answerRate);
      const boundBy = index % 2 === 0 ? 'caps' : 'concurrency';
      const maxConcurrent =
        boundBy === 'caps'
          ? Math.round(uniform(random, 2.5, 3.5) * natural)
          : Math.max(5, Math.round(uniform(random, 0.2, 0.6) * natural));
      lines.push({
        index,
        id: `line${index}`,
        gatewayIndex: gateway.index,
        poolIndex: Math.floor(gateway.index / gatewaysPerPool),
        caps,
        maxConcurrent,
        answerRate,
        boundBy,
      });
    }
  }
  const pools: Pool[] = Array.from({ length: shape.pools }, (_, p) => {
    const lineIndices = lines.filter((l) => l.poolIndex === p).map((l) => l.index);
    const capacityPerSecond = lineIndices.reduce((sum, i) => {
      const line = lines[i]!;
      return sum + Math.min(line.caps, line.maxConcurrent / meanCallSeconds(line.answerRate));
    }, 0);
    return { lineIndices, tenantIndices: [], campaignIndices: [], capacityPerSecond };
  });
  const tenants = buildTenants(random, pools, shape);
  const campaigns = buildCampaigns(random, tenants, pools, shape);
  return { lines, gateways, switches, tenants, campaigns, pools };
}

function buildTenants(random: () => number, pools: Pool[], shape: WorldShape): TenantSpec[] {
  const tenants: TenantSpec[] = [];
  for (let index = 0; index < shape.tenants; index++) {
    const poolIndex = index % shape.pools;
    tenants.push({
      index,
      id: `tenant${String(index).padStart(2, '0')}`,
      poolIndex,
      weight: pick(random, [1, 1, 2, 3, 4, 6]),
      maxCaps: null,
      // Present and checked, never binding here: a binding concurrency cap has no clean expected share.
      maxConcurrent: 40_000,
    });
    pools[poolIndex]!.tenantIndices.push(index);
  }
  // Three tenants get their own CAPS limit at ~half their weighted share of the pool: the
  // expected shares then come from weighted water-filling.
  for (const index of [0, 7, 13]) {
    const tenant = tenants[index];
    if (!tenant) continue;
    const pool = pools[tenant.poolIndex]!;
    const weightSum = pool.tenantIndices.reduce((sum, i) => sum + tenants[i]!.weight, 0);
    tenant.maxCaps = Math.max(2, Math.round((0.5 * pool.capacityPerSecond * tenant.weight) / weightSum));
  }
  return tenants;
}

function buildCampaigns(
  random: () => number,
  tenants: TenantSpec[],
  pools: Pool[],
  shape: WorldShape,
): CampaignSpec[] {
  // Skewed campaign counts per tenant (a few large tenants, many small), summing to 1,000.
  const raw = tenants.map(() => 0.15 + random() ** 2 * 2);
  const total = raw.reduce((a, b) => a + b, 0);
  const counts = raw.map((r) => Math.max(1, Math.floor((r / total) * shape.campaigns)));
  // Rounding leaves a few over or under: settle them on the largest tenant.
  const largest = counts.indexOf(Math.max(...counts));
  counts[largest]! += shape.campaigns - counts.reduce((a, b) => a + b, 0);
  const strategies: SelectionStrategy[] = [
    ...Array<SelectionStrategy>(12).fill('answer_rate_first'),
    'round_robin',
    'round_robin',
    'round_robin',
    'random',
    'random',
    'least_loaded',
    'least_loaded',
    'weighted',
  ];
  const campaigns: CampaignSpec[] = [];
  tenants.forEach((tenant, t) => {
    for (let k = 0; k < counts[t]!; k++) {
      const index = campaigns.length;
      campaigns.push({
        index,
        id: `c${String(index).padStart(4, '0')}`,
        tenantIndex: t,
        poolIndex: tenant.poolIndex,
        weight: pick(random, [1, 1, 1, 2, 2, 3, 5]),
        strategy: pick(random, strategies),
      });
      pools[tenant.poolIndex]!.campaignIndices.push(index);
    }
  });
  return campaigns;
}

// ---- the dispatch log ---------------------------------------------------------------------------

/** Every dispatch of one run, column-wise; the checks read only this, never the scheduler. */
export class DispatchLog {
  readonly campaign: number[] = [];
  readonly line: number[] = [];
  readonly switchIndex: number[] = [];
  readonly startMs: number[] = [];
  readonly endMs: number[] = [];
  readonly dueMs: number[] = [];
  readonly answered: boolean[] = [];

  get size(): number {
    return this.startMs.length;
  }

  add(entry: {
    campaign: number;
    line: number;
    switchIndex: number;
    startMs: number;
    endMs: number;
    dueMs: number;
    answered: boolean;
  }): number {
    this.campaign.push(entry.campaign);
    this.line.push(entry.line);
    this.switchIndex.push(entry.switchIndex);
    this.startMs.push(entry.startMs);
    this.endMs.push(entry.endMs);
    this.dueMs.push(entry.dueMs);
    this.answered.push(entry.answered);
    return this.startMs.length - 1;
  }
}

// ---- the workloads ------------------------------------------------------------------------------

/** Disturbances of the saturated run, in ms after T0. */
export interface Disturbances {
  failingLine: number;
  lineFailsAtMs: number;
  lineRecoversAtMs: number;
  overloadedSwitch: number;
  overloadFromMs: number;
  overloadUntilMs: number;
}

/** The line that fails: a caps-bound, well-answering line of pool 0 (answer-rate first likes it). */
export function chooseFailingLine(world: World): number {
  const candidates = world.lines.filter((l) => l.poolIndex === 0 && l.boundBy === 'caps' && l.caps >= 8);
  candidates.sort((a, b) => b.answerRate - a.answerRate);
  return (candidates[0] ?? world.lines[0]!).index;
}

/**
 * Weighted water-filling: each party's share of `total` by weight, except that a party with a cap
 * cannot take more than it; what it leaves goes to the others by weight.
 */
export function waterFill(weights: number[], caps: Array<number | null>, total: number): number[] {
  const share = weights.map(() => 0);
  const open = new Set(weights.map((_, i) => i));
  let left = total;
  for (;;) {
    const weightSum = [...open].reduce((sum, i) => sum + weights[i]!, 0);
    const capped = [...open].filter((i) => caps[i] !== null && (left * weights[i]!) / weightSum > caps[i]!);
    if (capped.length === 0) {
      for (const i of open) share[i] = (left * weights[i]!) / weightSum;
      return share;
    }
    for (const i of capped) {
      share[i] = caps[i]!;
      left -= caps[i]!;
      open.delete(i);
    }
  }
}

/**
 * Poisson arrivals per campaign from `fromMs` to `toMs` after T0, at `load` × the campaign's fair
 * rate: its pool's capacity split by tenant weight (water-filled around tenants' own CAPS), then by
 * campaign weight. Every limit then runs at `load` on average, so waiting measures the scheduler's
 * reaction, not a queue. Returns due times per campaign, ascending.
 */
export function poissonDemand(
  world: World,
  seed: number,
  load: number,
  fromMs: number,
  toMs: number,
): number[][] {
  const random = seeded(seed);
  return world.campaigns.map((campaign) => {
    const ratePerMs = (load * fairRate(world, campaign.index)) / SECOND_MS;
    const due: number[] = [];
    for (
      let t = fromMs + -Math.log(1 - random()) / ratePerMs;
      t < toMs;
      t += -Math.log(1 - random()) / ratePerMs
    )
      due.push(T0 + t);
    return due;
  });
}

/** A campaign's share of its pool's capacity, in dispatches per second. */
export function fairRate(world: World, campaignIndex: number): number {
  const campaign = world.campaigns[campaignIndex]!;
  const pool = world.pools[campaign.poolIndex]!;
  const tenants = pool.tenantIndices.map((t) => world.tenants[t]!);
  const shares = waterFill(
    tenants.map((t) => t.weight),
    tenants.map((t) => t.maxCaps),
    pool.capacityPerSecond,
  );
  const k = pool.tenantIndices.indexOf(campaign.tenantIndex);
  const own = pool.campaignIndices.filter((c) => world.campaigns[c]!.tenantIndex === campaign.tenantIndex);
  const weightSum = own.reduce((sum, c) => sum + world.campaigns[c]!.weight, 0);
  return (shares[k]! * campaign.weight) / weightSum;
}
