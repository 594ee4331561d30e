/**
 * Calling hours of a campaign in its callees' time zone: outside them its tasks are held.
 *
 * A window is a set of local wall-clock readings, not a span of instants: the schedule is open
 * exactly when the local clock shows a weekday and a time inside one of its windows. That is what
 * calling-hours rules regulate ("no calls before 08:00 local time"), so across a DST change we never
 * dial while the callee's clock reads a time outside the window:
 * - spring forward (local 02:00 → 03:00): a window from 02:30 opens at the instant of the jump,
 *   the first instant at which local time is ≥ 02:30; a window inside the gap never opens that day;
 * - fall back (local 02:00 → 01:00): a window from 01:30 opens at the first 01:30; when the clocks
 *   go back to 01:00 it closes, and it opens again at the second 01:30.
 *
 * Pure: time is a parameter. Local time comes from Intl.DateTimeFormat (one cached formatter per
 * zone, its offsets memoised per 6-hour step); a local time is turned back into an instant within
 * a stretch of constant UTC offset, and the instants where the offset changes are found by probing
 * and bisection to the millisecond.
 */

export interface CallingWindow {
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  days: number[];
  /** "HH:MM" local, inclusive. */
  start: string;
  /** "HH:MM" local, exclusive, after `start` on the same day; "24:00" is the end of the day. */
  end: string;
}

export interface CallingSchedule {
  /** IANA time zone, e.g. "Asia/Shanghai", "America/New_York". */
  timeZone: string;
  windows: CallingWindow[];
}

export const MAX_CALLING_WINDOWS = 28;

/** How far ahead nextOpeningMs / nextClosingMs look: a weekly schedule repeats within 7 days. */
export const SCHEDULE_SEARCH_HORIZON_MS = 8 * 86_400_000;

export class CallingScheduleError extends Error {
  override readonly name = 'CallingScheduleError';
  readonly code = 'invalid_schedule';
  constructor(
    /** Path of the offending field, e.g. `windows[1].start`. */
    readonly field: string,
    problem: string,
  ) {
    super(`calling schedule: ${field} ${problem}`);
  }
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/**
 * Step between offset probes. Real zones never change their UTC offset twice within 6 hours, so a
 * probe every 6 h cannot step over a change and back; bisection then finds the exact millisecond.
 */
const OFFSET_PROBE_STEP_MS = 6 * 3_600_000;

const START_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)$/;
const END_PATTERN = /^(?:([01]\d|2[0-3]):([0-5]\d)|24:00)$/;

// ---------------------------------------------------------------------------------------------
// Validation

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKnownFields(value: Record<string, unknown>, known: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key))
      throw new CallingScheduleError(path ? `${path}.${key}` : key, 'is not a known field');
  }
}

function isKnownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    // RangeError: Intl does not know the zone; the caller reports it.
    return false;
  }
}

function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

function validateWindow(value: unknown, path: string): CallingWindow {
  if (!isRecord(value)) throw new CallingScheduleError(path, 'must be an object with days, start and end');
  checkKnownFields(value, ['days', 'start', 'end'], path);
  const { days, start, end } = value;
  if (!Array.isArray(days) || days.length === 0)
    throw new CallingScheduleError(
      `${path}.days`,
      'must be a non-empty array of ISO weekdays (1 = Mon … 7 = Sun)',
    );
  const seen = new Set<number>();
  days.forEach((day: unknown, i) => {
    if (typeof day !== 'number' || !Number.isInteger(day) || day < 1 || day > 7)
      throw new CallingScheduleError(
        `${path}.days[${i}]`,
        `must be an ISO weekday 1 (Mon) … 7 (Sun), got ${JSON.stringify(day)}`,
      );
    if (seen.has(day)) throw new CallingScheduleError(`${path}.days[${i}]`, `repeats weekday ${day}`);
    seen.add(day);
  });
  if (typeof start !== 'string' || !START_PATTERN.test(start))
    throw new CallingScheduleError(
      `${path}.start`,
      `must be "HH:MM" from 00:00 to 23:59, got ${JSON.stringify(start)}`,
    );
  if (typeof end !== 'string' || !END_PATTERN.test(end))
    throw new CallingScheduleError(
      `${path}.end`,
      `must be "HH:MM" from 00:01 to 24:00, got ${JSON.stringify(end)}`,
    );
  if (minutesOf(start) >= minutesOf(end))
    throw new CallingScheduleError(
      `${path}.end`,
      `must be after start (${start} → ${end}); to cross midnight use two windows`,
    );
  return { days: [...seen].sort((a, b) => a - b), start, end };
}

/**
 * Checks an untrusted schedule (from the API or a config file) and returns a normalised copy:
 * weekdays sorted, unknown fields refused. The zone keeps the caller's spelling: Intl's canonical
 * names are ICU's legacy ones (Asia/Kolkata would come back as Asia/Calcutta).
 */
export function validateCallingSchedule(value: unknown): CallingSchedule {
  if (!isRecord(value))
    throw new CallingScheduleError('schedule', 'must be an object with timeZone and windows');
  checkKnownFields(value, ['timeZone', 'windows'], '');
  const { timeZone, windows } = value;
  if (typeof timeZone !== 'string' || timeZone.length === 0)
    throw new CallingScheduleError('timeZone', 'must be an IANA time zone name such as "Asia/Shanghai"');
  if (!isKnownTimeZone(timeZone))
    throw new CallingScheduleError(
      'timeZone',
      `is not a time zone this runtime knows: ${JSON.stringify(timeZone)}`,
    );
  if (!Array.isArray(windows) || windows.length === 0)
    throw new CallingScheduleError('windows', 'must be a non-empty array of calling windows');
  if (windows.length > MAX_CALLING_WINDOWS)
    throw new CallingScheduleError(
      'windows',
      `has ${windows.length} windows; at most ${MAX_CALLING_WINDOWS}`,
    );
  return {
    timeZone,
    windows: windows.map((window: unknown, i) => validateWindow(window, `windows[${i}]`)),
  };
}

// ---------------------------------------------------------------------------------------------
// Local time

const zones = new Map<string, ZoneOffsets>();

function zoneOffsets(timeZone: string): ZoneOffsets {
  let zone = zones.get(timeZone);
  if (zone === undefined) {
    const formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    zone = new ZoneOffsets(formatter);
    zones.set(timeZone, zone);
  }
  return zone;
}

/** Local wall time minus UTC at an instant, in ms (e.g. +28_800_000 in Asia/Shanghai). */
function offsetAt(formatter: Intl.DateTimeFormat, instantMs: number): number {
  let year = 1970;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of formatter.formatToParts(instantMs)) {
    switch (part.type) {
      case 'year':
        year = Number(part.value);
        break;
      case 'month':
        month = Number(part.value);
        break;
      case 'day':
        day = Number(part.value);
        break;
      case 'hour':
        // Some ICU versions still print midnight as 24 despite h23.
        hour = Number(part.value) % 24;
        break;
      case 'minute':
        minute = Number(part.value);
        break;
      case 'second':
        second = Number(part.value);
        break;
    }
  }
  const wholeSecondMs = instantMs - (((instantMs % 1000) + 1000) % 1000);
  return Date.UTC(year, month - 1, day, hour, minute, second) - wholeSecondMs;
}

/**
 * One probe step of a zone's offsets: the offset at its start, and the instant in
 * (startMs, startMs + step] where it changes (+Infinity if it does not).
 */
interface OffsetStep {
  offsetMs: number;
  changeMs: number;
  offsetAfterMs: number;
}

/** Bounds the memory of the offset cache; the working set is a few steps per zone. */
const MAX_CACHED_STEPS = 20_000;

/**
 * A zone's UTC offsets, memoised per probe step so that the hot path (isWithinSchedule) is a map
 * lookup rather than an Intl format (~15 µs). Exact under the same premise as the probing: at most
 * one offset change per step.
 */
class ZoneOffsets {
  private readonly steps = new Map<number, OffsetStep>();

  constructor(private readonly formatter: Intl.DateTimeFormat) {}

  offsetAt(instantMs: number): number {
    const step = this.stepAt(instantMs);
    return instantMs < step.changeMs ? step.offsetMs : step.offsetAfterMs;
  }

  /** The first instant in (fromMs, toMs] whose offset differs from fromMs's, or null. */
  nextChange(fromMs: number, toMs: number): number | null {
    for (
      let index = Math.floor(fromMs / OFFSET_PROBE_STEP_MS);
      index * OFFSET_PROBE_STEP_MS <= toMs;
      index++
    ) {
      const { changeMs } = this.step(index);
      if (changeMs > fromMs && changeMs <= toMs) return changeMs;
    }
    return null;
  }

  private stepAt(instantMs: number): OffsetStep {
    return this.step(Math.floor(instantMs / OFFSET_PROBE_STEP_MS));
  }

  private step(index: number): OffsetStep {
    const cached = this.steps.get(index);
    if (cached !== undefined) return cached;
    let low = index * OFFSET_PROBE_STEP_MS;
    let high = low + OFFSET_PROBE_STEP_MS;
    const offsetMs = offsetAt(this.formatter, low);
    const offsetAfterMs = offsetAt(this.formatter, high);
    let changeMs = Number.POSITIVE_INFINITY;
    if (offsetAfterMs !== offsetMs) {
      while (high - low > 1) {
        const middle = low + Math.floor((high - low) / 2);
        if (offsetAt(this.formatter, middle) === offsetMs) low = middle;
        else high = middle;
      }
      changeMs = high;
    }
    const step = { offsetMs, changeMs, offsetAfterMs };
    if (this.steps.size >= MAX_CACHED_STEPS) this.steps.clear();
    this.steps.set(index, step);
    return step;
  }
}

// ---------------------------------------------------------------------------------------------
// Windows on the local clock. A "wall" value is local wall time written as if it were UTC ms, so
// day arithmetic is plain division.

interface WallWindow {
  /** Bit n set when ISO weekday n is included. */
  dayMask: number;
  startMs: number;
  endMs: number;
}

function wallWindows(schedule: CallingSchedule): WallWindow[] {
  return schedule.windows.map((window) => ({
    dayMask: window.days.reduce((mask, day) => mask | (1 << day), 0),
    startMs: minutesOf(window.start) * MINUTE_MS,
    endMs: minutesOf(window.end) * MINUTE_MS,
  }));
}

/** ISO weekday of a day number counted from 1970-01-01, which was a Thursday (4). */
function isoWeekday(dayNumber: number): number {
  return ((((dayNumber + 3) % 7) + 7) % 7) + 1;
}

function isOpenWall(windows: readonly WallWindow[], wallMs: number): boolean {
  const dayNumber = Math.floor(wallMs / DAY_MS);
  const bit = 1 << isoWeekday(dayNumber);
  const timeOfDayMs = wallMs - dayNumber * DAY_MS;
  for (const window of windows) {
    if ((window.dayMask & bit) !== 0 && window.startMs <= timeOfDayMs && timeOfDayMs < window.endMs)
      return true;
  }
  return false;
}

/** The earliest wall time ≥ wallMs (and ≤ limitWallMs) inside a window, or null. */
function nextOpenWall(windows: readonly WallWindow[], wallMs: number, limitWallMs: number): number | null {
  for (let dayNumber = Math.floor(wallMs / DAY_MS); dayNumber * DAY_MS <= limitWallMs; dayNumber++) {
    const dayStartMs = dayNumber * DAY_MS;
    const bit = 1 << isoWeekday(dayNumber);
    let earliest = Number.POSITIVE_INFINITY;
    for (const window of windows) {
      if ((window.dayMask & bit) === 0 || wallMs >= dayStartMs + window.endMs) continue;
      earliest = Math.min(earliest, Math.max(wallMs, dayStartMs + window.startMs));
    }
    if (earliest !== Number.POSITIVE_INFINITY) return earliest <= limitWallMs ? earliest : null;
  }
  return null;
}

/**
 * The first wall time after an open wallMs that no window covers (windows that overlap or touch,
 * including across midnight, are one stretch), or null if that is beyond limitWallMs.
 */
function openStretchEndWall(
  windows: readonly WallWindow[],
  wallMs: number,
  limitWallMs: number,
): number | null {
  let current = wallMs;
  for (;;) {
    const dayNumber = Math.floor(current / DAY_MS);
    const dayStartMs = dayNumber * DAY_MS;
    const bit = 1 << isoWeekday(dayNumber);
    const timeOfDayMs = current - dayStartMs;
    let end = current;
    for (const window of windows) {
      if ((window.dayMask & bit) !== 0 && window.startMs <= timeOfDayMs && timeOfDayMs < window.endMs)
        end = Math.max(end, dayStartMs + window.endMs);
    }
    if (end === current) return current;
    if (end > limitWallMs) return null;
    current = end;
  }
}

// ---------------------------------------------------------------------------------------------
// Public queries

export function isWithinSchedule(schedule: CallingSchedule, nowMs: number): boolean {
  const zone = zoneOffsets(schedule.timeZone);
  return isOpenWall(wallWindows(schedule), nowMs + zone.offsetAt(nowMs));
}

/**
 * nowMs if the schedule is open now; else the earliest instant after nowMs at which it is open,
 * exact to the millisecond; null if it does not open within SCHEDULE_SEARCH_HORIZON_MS.
 */
export function nextOpeningMs(schedule: CallingSchedule, nowMs: number): number | null {
  const zone = zoneOffsets(schedule.timeZone);
  const windows = wallWindows(schedule);
  const limitMs = nowMs + SCHEDULE_SEARCH_HORIZON_MS;
  let fromMs = nowMs;
  // Each pass covers one stretch of constant offset, where local time runs in step with UTC; a new
  // stretch starts at an offset change, where local time may jump into a window.
  while (fromMs <= limitMs) {
    const offsetMs = zone.offsetAt(fromMs);
    const wallMs = nextOpenWall(windows, fromMs + offsetMs, limitMs + offsetMs);
    const boundMs = wallMs === null ? limitMs : wallMs - offsetMs;
    const changeMs = zone.nextChange(fromMs, boundMs);
    if (changeMs === null) return wallMs === null ? null : boundMs;
    fromMs = changeMs;
  }
  return null;
}

/**
 * When the open period that contains nowMs ends (the first instant after it that is closed); null
 * when the schedule is closed now, or stays open for all of SCHEDULE_SEARCH_HORIZON_MS.
 */
export function nextClosingMs(schedule: CallingSchedule, nowMs: number): number | null {
  const zone = zoneOffsets(schedule.timeZone);
  const windows = wallWindows(schedule);
  if (!isOpenWall(windows, nowMs + zone.offsetAt(nowMs))) return null;
  const limitMs = nowMs + SCHEDULE_SEARCH_HORIZON_MS;
  let fromMs = nowMs;
  while (fromMs <= limitMs) {
    const offsetMs = zone.offsetAt(fromMs);
    const endWallMs = openStretchEndWall(windows, fromMs + offsetMs, limitMs + offsetMs);
    const boundMs = endWallMs === null ? limitMs : endWallMs - offsetMs;
    const changeMs = zone.nextChange(fromMs, boundMs);
    if (changeMs === null) return endWallMs === null ? null : boundMs;
    // The clocks change while still open: closed if local time jumps out of the windows.
    if (!isOpenWall(windows, changeMs + zone.offsetAt(changeMs))) return changeMs;
    fromMs = changeMs;
  }
  return null;
}
