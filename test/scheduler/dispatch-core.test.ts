import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryDialSlots } from '../../src/coord/memory-dial-slots.js';
import type { QueuedTask } from '../../src/scheduler/campaign-queue.js';
import type { CoreCampaign, CoreLine } from '../../src/scheduler/core-types.js';
import { DispatchCore } from '../../src/scheduler/dispatch-core.js';

/** mulberry32: a small seeded generator, so every run decides the same. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T0 = Date.UTC(2027, 0, 4, 9, 0, 0); // a Monday, 09:00 UTC

function line(id: string, caps: number, maxConcurrent: number, extra: Partial<CoreLine> = {}): CoreLine {
  return {
    id,
    gatewayId: 'gw',
    tenantId: null,
    enabled: true,
    caps,
    maxConcurrent,
    weight: 1,
    callerIds: [],
    callerIdCaps: null,
    callerIdMaxConcurrent: null,
    ...extra,
  };
}

function campaign(
  id: string,
  tenantId: string,
  lineIds: string[],
  extra: Partial<CoreCampaign> = {},
): CoreCampaign {
  return {
    id,
    tenantId,
    weight: 1,
    lineIds,
    caps: null,
    maxConcurrent: null,
    schedule: null,
    strategy: 'round_robin',
    callerId: null,
    leaseTtlMs: 600_000,
    ...extra,
  };
}

function makeCore(
  lines: CoreLine[],
  options: { warmupMs?: number; switches?: string[]; seed?: number } = {},
) {
  let n = 0;
  const switches = options.switches ?? ['sw1'];
  const core = new DispatchCore<QueuedTask>({
    slots: new MemoryDialSlots(0),
    random: seeded(options.seed ?? 1),
    newAttemptId: () => `a${n++}`,
    warmupMs: options.warmupMs ?? 0,
  });
  core.setResources(
    {
      lines,
      gateways: [{ id: 'gw', switchIds: switches, enabled: true, maxCaps: null, maxConcurrent: null }],
      switches: switches.map((id) => ({ id, enabled: true, maxCaps: 10_000, maxSessions: 100_000 })),
    },
    T0,
  );
  for (const id of switches) core.setSwitchState(id, true, T0);
  return core;
}

function fill(
  core: DispatchCore<QueuedTask>,
  campaignId: string,
  count: number,
  at = T0,
  priority = 0,
): void {
  for (let i = 0; i < count; i++) {
    core.enqueue(
      campaignId,
      {
        id: `${campaignId}-${String(i).padStart(6, '0')}`,
        version: 1,
        priority,
        notBefore: at,
        expiresAt: null,
      },
      at,
    );
  }
}

/** Runs the core on a virtual clock, one decide() per ms, ending every call after `holdMs`. */
function run(core: DispatchCore<QueuedTask>, fromMs: number, toMs: number, holdMs = 1) {
  const dispatched: Array<{
    campaignId: string;
    tenantId: string;
    lineId: string;
    atMs: number;
    attemptId: string;
  }> = [];
  const ends: Array<{ atMs: number; attemptId: string; lineId: string }> = [];
  for (let t = fromMs; t < toMs; t++) {
    while (ends.length > 0 && ends[0]!.atMs <= t) {
      const end = ends.shift()!;
      core.callEnded(end.attemptId, 'answered', { lineId: end.lineId, gatewayId: 'gw' }, t);
    }
    for (const d of core.decide(t, 1000).dispatches) {
      dispatched.push({
        campaignId: d.campaignId,
        tenantId: d.tenantId,
        lineId: d.lineId,
        atMs: t,
        attemptId: d.attemptId,
      });
      ends.push({ atMs: t + holdMs, attemptId: d.attemptId, lineId: d.lineId });
      ends.sort((a, b) => a.atMs - b.atMs);
    }
  }
  return dispatched;
}

describe('dispatch core: fairness', () => {
  it('a small campaign is not held up by a huge one (R3.8)', () => {
    const core = makeCore([line('l1', 10, 1000)]);
    core.setCampaign(campaign('big', 'A', ['l1']), T0);
    core.setCampaign(campaign('small', 'B', ['l1']), T0);
    fill(core, 'big', 100_000);
    fill(core, 'small', 5);
    const d = run(core, T0, T0 + 1000);
    expect(d).toHaveLength(10);
    // Served alternately: the small campaign's five calls are among the first ten.
    expect(d.filter((x) => x.campaignId === 'small')).toHaveLength(5);
  });

  it('shares a saturated line by tenant weight, then by campaign weight', () => {
    const core = makeCore([line('l1', 100, 1000)]);
    core.setTenant({ id: 'A', weight: 3, maxCaps: null, maxConcurrent: null, maxDailyAttempts: null });
    core.setTenant({ id: 'B', weight: 1, maxCaps: null, maxConcurrent: null, maxDailyAttempts: null });
    core.setCampaign(campaign('a1', 'A', ['l1'], { weight: 1 }), T0);
    core.setCampaign(campaign('a2', 'A', ['l1'], { weight: 2 }), T0);
    core.setCampaign(campaign('b1', 'B', ['l1']), T0);
    for (const id of ['a1', 'a2', 'b1']) fill(core, id, 10_000);
    const d = run(core, T0, T0 + 10_000);
    const count = (id: string) => d.filter((x) => x.campaignId === id).length;
    expect(d).toHaveLength(1000);
    expect(count('b1')).toBeGreaterThanOrEqual(249);
    expect(count('b1')).toBeLessThanOrEqual(251);
    expect(count('a2') / count('a1')).toBeCloseTo(2, 1);
  });

  it('a campaign returning from a wait gets its share, not a burst of saved-up credit', () => {
    const core = makeCore([line('l1', 10, 1000)]);
    core.setCampaign(campaign('steady', 'A', ['l1']), T0);
    core.setCampaign(campaign('late', 'B', ['l1']), T0);
    fill(core, 'steady', 10_000);
    run(core, T0, T0 + 5000); // 'late' has nothing for 5 s
    fill(core, 'late', 1000, T0 + 5000);
    const d = run(core, T0 + 5000, T0 + 7000);
    const late = d.filter((x) => x.campaignId === 'late').length;
    expect(late).toBeGreaterThanOrEqual(9);
    expect(late).toBeLessThanOrEqual(11);
  });

  it('a busy pool elsewhere does not starve tenants sharing a saturated line', () => {
    // Reproduction from the scheduler benchmark: A (weight 3) and B (weight 1) share a 10-CAPS
    // line; C dials on its own 1,000-CAPS line. A and B must still split theirs 3 : 1.
    const core = makeCore([line('shared', 10, 1000), line('own', 1000, 100_000)]);
    core.setTenant({ id: 'A', weight: 3, maxCaps: null, maxConcurrent: null, maxDailyAttempts: null });
    core.setTenant({ id: 'B', weight: 1, maxCaps: null, maxConcurrent: null, maxDailyAttempts: null });
    core.setTenant({ id: 'C', weight: 1, maxCaps: null, maxConcurrent: null, maxDailyAttempts: null });
    core.setCampaign(campaign('a', 'A', ['shared']), T0);
    core.setCampaign(campaign('b', 'B', ['shared']), T0);
    core.setCampaign(campaign('c', 'C', ['own']), T0);
    for (const id of ['a', 'b', 'c']) fill(core, id, 20_000);
    const d = run(core, T0, T0 + 10_000);
    const count = (id: string) => d.filter((x) => x.campaignId === id).length;
    expect(count('a') + count('b')).toBe(100);
    expect(count('b')).toBeGreaterThanOrEqual(24);
    expect(count('b')).toBeLessThanOrEqual(26);
    expect(count('c')).toBeGreaterThan(9_000);
  });

  it('counts an answer when it happens, not when the call ends (healthy lines are not ejected at start-up)', () => {
    const core = makeCore([line('l1', 1000, 100_000)]);
    core.setCampaign(campaign('c', 'A', ['l1']), T0);
    fill(core, 'c', 200);
    const d = run(core, T0, T0 + 200, 1_000_000); // calls stay up
    // Half answer early (and stay up for long); the other half fail fast.
    d.forEach((x, i) => {
      if (i % 2 === 0) core.callAnswered(x.attemptId, { lineId: 'l1', gatewayId: 'gw' }, T0 + 300);
      else core.callEnded(x.attemptId, 'busy', { lineId: 'l1', gatewayId: 'gw' }, T0 + 300);
    });
    expect(core.drainHealthChanges()).toEqual([]);
    expect(core.lineHealth('l1', T0 + 400)?.stats.window).toMatchObject({ attempts: 200, answered: 100 });
    // The answered calls' own ends later do not count them twice.
    d.forEach((x, i) => {
      if (i % 2 === 0) core.callEnded(x.attemptId, 'answered', { lineId: 'l1', gatewayId: 'gw' }, T0 + 500);
    });
    expect(core.lineHealth('l1', T0 + 600)?.stats.window).toMatchObject({ attempts: 200, answered: 100 });
  });

  it('judges a saturated start on settled calls: fast failures first do not eject, a line that only fails does', () => {
    const core = makeCore([line('l1', 1000, 100_000), line('l2', 1000, 100_000)]);
    core.setCampaign(campaign('c', 'A', ['l1']), T0);
    core.setCampaign(campaign('d', 'A', ['l2']), T0);
    fill(core, 'c', 200);
    fill(core, 'd', 200);
    const d = run(core, T0, T0 + 1_000, 1_000_000);
    const on = (lineId: string) => d.filter((x) => x.lineId === lineId);
    expect(on('l1')).toHaveLength(200);
    // l1: 80 fail fast while the rest ring; then 100 answer and 20 go unanswered.
    on('l1').forEach((x, i) => {
      if (i < 80) core.callEnded(x.attemptId, 'busy', { lineId: 'l1', gatewayId: 'gw' }, T0 + 300);
    });
    expect(core.drainHealthChanges()).toEqual([]);
    on('l1').forEach((x, i) => {
      if (i >= 80 && i < 180) core.callAnswered(x.attemptId, { lineId: 'l1', gatewayId: 'gw' }, T0 + 5_000);
      if (i >= 180) core.callEnded(x.attemptId, 'no_answer', { lineId: 'l1', gatewayId: 'gw' }, T0 + 30_000);
    });
    expect(core.drainHealthChanges()).toEqual([]);
    // l2: every call is rejected; it goes once two thirds have said so.
    for (const x of on('l2'))
      core.callEnded(x.attemptId, 'rejected', { lineId: 'l2', gatewayId: 'gw' }, T0 + 300);
    expect(core.drainHealthChanges()).toMatchObject([
      { lineId: 'l2', to: 'ejected', reason: 'dead_line', attempts: 134 },
    ]);
  });

  it('serves priority first within a campaign', () => {
    const core = makeCore([line('l1', 1000, 1000)]);
    core.setCampaign(campaign('c', 'A', ['l1']), T0);
    fill(core, 'c', 3, T0, 0);
    core.enqueue('c', { id: 'urgent', version: 1, priority: 9, notBefore: T0, expiresAt: null }, T0);
    expect(core.decide(T0, 1).dispatches[0]?.task.id).toBe('urgent');
  });
});

describe('dispatch core: limits and waiting', () => {
  it('admits exactly N per second per line, and parks on concurrency until a call ends', () => {
    const core = makeCore([line('l1', 5, 2)]);
    core.setCampaign(campaign('c', 'A', ['l1']), T0);
    fill(core, 'c', 100);
    const first = core.decide(T0, 100).dispatches;
    expect(first).toHaveLength(1);
    expect(core.decide(T0 + 200, 100).dispatches).toHaveLength(1);
    expect(core.decide(T0 + 400, 100).dispatches).toHaveLength(0); // 2 in flight
    expect(core.hold('c')).toMatchObject({
      kind: 'limits',
      denials: [{ level: 'line', reason: 'concurrency', inFlight: 2, maxConcurrent: 2 }],
    });
    core.callEnded(first[0]!.attemptId, 'busy', { lineId: 'l1', gatewayId: 'gw' }, T0 + 450);
    expect(core.decide(T0 + 450, 100).dispatches).toHaveLength(1);
  });

  it('holds a tenant to its own caps across its campaigns', () => {
    const core = makeCore([line('l1', 1000, 1000)]);
    core.setTenant({ id: 'A', weight: 1, maxCaps: 4, maxConcurrent: null, maxDailyAttempts: null });
    core.setCampaign(campaign('c1', 'A', ['l1']), T0);
    core.setCampaign(campaign('c2', 'A', ['l1']), T0);
    fill(core, 'c1', 100);
    fill(core, 'c2', 100);
    expect(run(core, T0, T0 + 1000)).toHaveLength(4);
  });

  it('stops a tenant at its daily attempts and resumes at the next UTC day', () => {
    const core = makeCore([line('l1', 1000, 100_000)]);
    core.setTenant({ id: 'A', weight: 1, maxCaps: null, maxConcurrent: null, maxDailyAttempts: 5 });
    core.setCampaign(campaign('c', 'A', ['l1']), T0);
    core.setDailyAttempts('A', 2, T0);
    fill(core, 'c', 100);
    expect(run(core, T0, T0 + 1000)).toHaveLength(3);
    expect(core.hold('c')).toMatchObject({
      kind: 'limits',
      denials: [{ reason: 'daily_attempts', inFlight: 5, maxConcurrent: 5 }],
    });
    const midnight = T0 - (T0 % 86_400_000) + 86_400_000;
    expect(core.nextWakeAtMs()).toBe(midnight);
    expect(run(core, midnight, midnight + 100)).toHaveLength(5);
  });

  it('paces each caller id on a line that limits them', () => {
    const core = makeCore([
      line('l1', 1000, 1000, { callerIds: ['100', '200'], callerIdCaps: 1, callerIdMaxConcurrent: null }),
    ]);
    core.setCampaign(campaign('c', 'A', ['l1']), T0);
    fill(core, 'c', 100);
    const d = run(core, T0, T0 + 1000);
    expect(d).toHaveLength(2);
  });

  it('waits for due tasks and hands back expired ones', () => {
    const core = makeCore([line('l1', 1000, 1000)]);
    core.setCampaign(campaign('c', 'A', ['l1']), T0);
    core.enqueue('c', { id: 'later', version: 1, priority: 0, notBefore: T0 + 5000, expiresAt: null }, T0);
    core.enqueue('c', { id: 'stale', version: 1, priority: 0, notBefore: T0, expiresAt: T0 + 10 }, T0);
    const early = core.decide(T0 + 10, 10);
    expect(early.dispatches).toEqual([]);
    expect(early.expired.map((t) => t.id)).toEqual(['stale']);
    expect(core.hold('c')).toMatchObject({ kind: 'no_due_tasks', nextDueAtMs: T0 + 5000 });
    expect(core.nextWakeAtMs()).toBe(T0 + 5000);
    expect(core.decide(T0 + 5000, 10).dispatches.map((d) => d.task.id)).toEqual(['later']);
  });

  it('holds a campaign outside its calling window and opens on time', () => {
    const core = makeCore([line('l1', 1000, 1000)]);
    const schedule = {
      timeZone: 'Asia/Shanghai',
      windows: [{ days: [1, 2, 3, 4, 5], start: '18:00', end: '20:00' }],
    };
    core.setCampaign(campaign('c', 'A', ['l1'], { schedule }), T0); // 09:00 UTC = 17:00 in Shanghai
    fill(core, 'c', 10);
    expect(core.decide(T0, 10).dispatches).toEqual([]);
    expect(core.hold('c')).toMatchObject({ kind: 'outside_window', nextOpeningAtMs: T0 + 3_600_000 });
    expect(core.decide(T0 + 3_599_999, 10).dispatches).toEqual([]);
    const opened = run(core, T0 + 3_600_000, T0 + 3_600_100);
    expect(opened).toHaveLength(10);
    expect(opened[0]!.atMs).toBe(T0 + 3_600_000);
  });

  it('never exceeds a limit on random workloads (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ caps: fc.integer({ min: 1, max: 40 }), max: fc.integer({ min: 1, max: 15 }) }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 1500 }),
        fc.integer(),
        (lineSpecs, taskCounts, holdMs, seed) => {
          const lines = lineSpecs.map((s, i) => line(`l${i}`, s.caps, s.max));
          const core = makeCore(lines, { seed, switches: ['sw1', 'sw2'] });
          taskCounts.forEach((count, i) => {
            core.setCampaign(
              campaign(
                `c${i}`,
                `t${i % 2}`,
                lines.map((l) => l.id),
                { strategy: i % 2 ? 'answer_rate_first' : 'round_robin' },
              ),
              T0,
            );
            fill(core, `c${i}`, count);
          });
          const d = run(core, T0, T0 + 3000, holdMs);
          for (const [i, spec] of lineSpecs.entries()) {
            const times = d.filter((x) => x.lineId === `l${i}`).map((x) => x.atMs);
            for (let k = 0; k + spec.caps < times.length; k++)
              expect(times[k + spec.caps]! - times[k]!).toBeGreaterThanOrEqual(1000);
            for (const t of times) {
              const live = times.filter((s) => s <= t && s + holdMs > t).length;
              expect(live).toBeLessThanOrEqual(spec.max);
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('dispatch core: resources', () => {
  it('skips an overloaded switch and says so when nothing else is left', () => {
    const core = makeCore([line('l1', 1000, 1000)], { switches: ['sw1', 'sw2'] });
    core.setCampaign(campaign('c', 'A', ['l1']), T0);
    fill(core, 'c', 10_000);
    core.setSwitchLoad('sw1', { sessionCount: 950, maxSessions: 1000, idleCpuPercent: 50, atMs: T0 }, T0);
    const d = core.decide(T0, 10).dispatches;
    expect(d.length).toBeGreaterThan(0);
    expect(d.every((x) => x.switchId === 'sw2')).toBe(true);
    core.setSwitchLoad(
      'sw2',
      { sessionCount: 10, maxSessions: 1000, idleCpuPercent: 5, atMs: T0 + 100 },
      T0 + 100,
    );
    expect(core.decide(T0 + 200, 10).dispatches).toEqual([]);
    expect(core.hold('c')).toMatchObject({ kind: 'no_route' });
    const hold = core.hold('c');
    expect(hold?.kind === 'no_route' && hold.problems.map((p) => p.kind)).toEqual([
      'switch_overloaded',
      'switch_overloaded',
    ]);
  });

  it('ramps a (re)joining switch up over the warm-up (slow start)', () => {
    const core = makeCore([line('l1', 1000, 100_000)], { warmupMs: 10_000, switches: [] });
    core.setResources(
      {
        lines: [line('l1', 1000, 100_000)],
        gateways: [{ id: 'gw', switchIds: ['sw1'], enabled: true, maxCaps: null, maxConcurrent: null }],
        switches: [{ id: 'sw1', enabled: true, maxCaps: 100, maxSessions: 100_000 }],
      },
      T0 - 60_000,
    );
    core.setSwitchState('sw1', true, T0);
    core.setCampaign(campaign('c', 'A', ['l1']), T0);
    fill(core, 'c', 10_000);
    const first = run(core, T0, T0 + 1000).length;
    const later = run(core, T0 + 10_000, T0 + 11_000).length;
    expect(first).toBeGreaterThanOrEqual(10);
    expect(first).toBeLessThanOrEqual(16);
    expect(later).toBe(100);
  });

  it('sends a task back out at once on another switch and line after a not_dialed (R3.6)', () => {
    const core = makeCore([line('l1', 1000, 1000), line('l2', 1000, 1000)], { switches: ['sw1', 'sw2'] });
    core.setCampaign(campaign('c', 'A', ['l1', 'l2']), T0);
    for (let i = 0; i < 20; i++) {
      const avoid = { switchId: i % 2 ? 'sw1' : 'sw2', lineId: i % 2 ? 'l1' : 'l2' };
      core.enqueue(
        'c',
        { id: `t${i}`, version: 2, priority: 0, notBefore: T0 + i * 10, expiresAt: null, avoid },
        T0 + i * 10,
      );
      const [d] = core.decide(T0 + i * 10, 1).dispatches;
      expect(d?.switchId).not.toBe(avoid.switchId);
      expect(d?.lineId).not.toBe(avoid.lineId);
    }
  });

  it('prefers the line that answers (answer-rate first) when there is capacity to choose, still exploring', () => {
    const core = makeCore([line('good', 1000, 100_000), line('poor', 1000, 100_000)], { seed: 7 });
    for (let i = 0; i < 200; i++) {
      core.callEnded(
        `h${i}`,
        i % 5 === 0 ? 'no_answer' : 'answered',
        { lineId: 'good', gatewayId: 'gw' },
        T0,
      );
      core.callEnded(
        `k${i}`,
        i % 5 === 0 ? 'answered' : 'no_answer',
        { lineId: 'poor', gatewayId: 'gw' },
        T0,
      );
    }
    // Demand (the campaign's own 200 CAPS) is below supply (2 × 1000), so the choice is real.
    core.setCampaign(campaign('c', 'A', ['good', 'poor'], { strategy: 'answer_rate_first', caps: 200 }), T0);
    fill(core, 'c', 10_000);
    const d = run(core, T0 + 1, T0 + 5001);
    const good = d.filter((x) => x.lineId === 'good').length;
    expect(d).toHaveLength(1000);
    expect(good).toBeGreaterThan(900);
    expect(good).toBeLessThan(1000);
  });

  it('ejects a line whose answers collapse, and routes around it', () => {
    const core = makeCore([line('l1', 10_000, 100_000), line('l2', 10_000, 100_000)]);
    core.setCampaign(campaign('c', 'A', ['l1', 'l2']), T0);
    for (let i = 0; i < 100; i++)
      core.callEnded(`x${i}`, 'network_failure', { lineId: 'l1', gatewayId: 'gw' }, T0 + i);
    expect(core.drainHealthChanges()).toMatchObject([{ lineId: 'l1', to: 'ejected' }]);
    fill(core, 'c', 50, T0 + 100);
    const d = run(core, T0 + 100, T0 + 200);
    expect(d).toHaveLength(50);
    expect(d.every((x) => x.lineId === 'l2')).toBe(true);
    expect(core.setLineOverride('l2', 'out', T0 + 101)).not.toBeNull();
    fill(core, 'c', 5, T0 + 101);
    expect(core.decide(T0 + 101, 5).dispatches).toEqual([]);
    expect(core.hold('c')).toMatchObject({ kind: 'no_route' });
  });
});
