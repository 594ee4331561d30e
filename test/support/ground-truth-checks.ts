import type { GroundTruthEntry } from '../../src/sim/index.js';

type Originate = Extract<GroundTruthEntry, { type: 'originate' }>;

export function originates(entries: readonly GroundTruthEntry[]): Originate[] {
  return entries.filter((e): e is Originate => e.type === 'originate');
}

/** Most originates any one line received within a half-open one-second window [t, t+1000). */
export function maxPerSecondByLine(entries: readonly GroundTruthEntry[]): Map<string, number> {
  const byLine = new Map<string, number[]>();
  for (const o of originates(entries)) {
    const line = o.variables.sb_line ?? '?';
    const times = byLine.get(line) ?? [];
    times.push(o.atMs);
    byLine.set(line, times);
  }
  const result = new Map<string, number>();
  for (const [line, times] of byLine) {
    times.sort((a, b) => a - b);
    let best = 0;
    let start = 0;
    for (let end = 0; end < times.length; end++) {
      while (times[end]! - times[start]! >= 1000) start++;
      best = Math.max(best, end - start + 1);
    }
    result.set(line, best);
  }
  return result;
}

/** Most calls any one line had up at once, from the switch's own originate and hang-up times. */
export function maxConcurrentByLine(entries: readonly GroundTruthEntry[]): Map<string, number> {
  const lineOf = new Map<string, string>();
  const points: Array<{ at: number; line: string; delta: number }> = [];
  for (const e of entries) {
    if (e.type === 'originate' && e.accepted) {
      const line = e.variables.sb_line ?? '?';
      lineOf.set(e.uuid, line);
      points.push({ at: e.atMs, line, delta: +1 });
    }
  }
  for (const e of entries) {
    if (e.type === 'hangup' && lineOf.has(e.uuid))
      points.push({ at: e.atMs, line: lineOf.get(e.uuid)!, delta: -1 });
  }
  // At equal times, count the end before the start: a slot freed and re-used in the same ms is not an overlap.
  points.sort((a, b) => a.at - b.at || a.delta - b.delta);
  const current = new Map<string, number>();
  const best = new Map<string, number>();
  for (const p of points) {
    const n = (current.get(p.line) ?? 0) + p.delta;
    current.set(p.line, n);
    best.set(p.line, Math.max(best.get(p.line) ?? 0, n));
  }
  return best;
}
