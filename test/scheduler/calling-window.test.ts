import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CallingSchedule,
  CallingScheduleError,
  isWithinSchedule,
  nextClosingMs,
  nextOpeningMs,
  validateCallingSchedule,
} from '../../src/scheduler/calling-window.js';

const at = (iso: string): number => Date.parse(iso);
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

function schedule(timeZone: string, ...windows: Array<[number[], string, string]>): CallingSchedule {
  return validateCallingSchedule({
    timeZone,
    windows: windows.map(([days, start, end]) => ({ days, start, end })),
  });
}

function expectInvalid(value: unknown, field: string, message: RegExp): void {
  try {
    validateCallingSchedule(value);
  } catch (error) {
    expect(error).toBeInstanceOf(CallingScheduleError);
    const invalid = error as CallingScheduleError;
    expect(invalid.name).toBe('CallingScheduleError');
    expect(invalid.code).toBe('invalid_schedule');
    expect(invalid.field).toBe(field);
    expect(invalid.message).toMatch(message);
    return;
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
}

describe('validateCallingSchedule', () => {
  const window = { days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00' };

  it('returns a normalised copy: sorted weekdays, end of day as 24:00', () => {
    expect(
      validateCallingSchedule({
        timeZone: 'Asia/Kolkata',
        windows: [{ days: [5, 1, 3], start: '00:00', end: '24:00' }],
      }),
    ).toEqual({ timeZone: 'Asia/Kolkata', windows: [{ days: [1, 3, 5], start: '00:00', end: '24:00' }] });
  });

  it('refuses a value that is not a schedule', () => {
    expectInvalid(null, 'schedule', /must be an object/);
    expectInvalid([], 'schedule', /must be an object/);
    expectInvalid({ timeZone: 'UTC', windows: [window], timezone: 'UTC' }, 'timezone', /not a known field/);
  });

  it('refuses a zone Intl does not know', () => {
    expectInvalid({ timeZone: 'Mars/Olympus_Mons', windows: [window] }, 'timeZone', /Mars\/Olympus_Mons/);
    expectInvalid({ timeZone: '', windows: [window] }, 'timeZone', /IANA/);
    expectInvalid({ windows: [window] }, 'timeZone', /IANA/);
  });

  it('refuses no windows and more than 28', () => {
    expectInvalid({ timeZone: 'UTC', windows: [] }, 'windows', /non-empty/);
    expectInvalid({ timeZone: 'UTC' }, 'windows', /non-empty/);
    expectInvalid({ timeZone: 'UTC', windows: Array(29).fill(window) }, 'windows', /29 windows; at most 28/);
    expect(
      validateCallingSchedule({ timeZone: 'UTC', windows: Array(28).fill(window) }).windows,
    ).toHaveLength(28);
  });

  it('refuses bad weekdays, naming the element', () => {
    const withDays = (days: unknown) => ({ timeZone: 'UTC', windows: [window, { ...window, days }] });
    expectInvalid(withDays([]), 'windows[1].days', /non-empty/);
    expectInvalid(withDays('1-5'), 'windows[1].days', /non-empty array/);
    expectInvalid(withDays([1, 0]), 'windows[1].days[1]', /ISO weekday .* got 0/);
    expectInvalid(withDays([8]), 'windows[1].days[0]', /got 8/);
    expectInvalid(withDays([1.5]), 'windows[1].days[0]', /got 1.5/);
    expectInvalid(withDays(['1']), 'windows[1].days[0]', /got "1"/);
    expectInvalid(withDays([2, 3, 2]), 'windows[1].days[2]', /repeats weekday 2/);
  });

  it('refuses bad times and start >= end', () => {
    const withTimes = (start: unknown, end: unknown) => ({
      timeZone: 'UTC',
      windows: [{ days: [1], start, end }],
    });
    expectInvalid(withTimes('9:00', '18:00'), 'windows[0].start', /"HH:MM".*"9:00"/);
    expectInvalid(withTimes('24:00', '24:00'), 'windows[0].start', /"24:00"/);
    expectInvalid(withTimes('12:60', '18:00'), 'windows[0].start', /"12:60"/);
    expectInvalid(withTimes(900, '18:00'), 'windows[0].start', /got 900/);
    expectInvalid(withTimes('09:00', '24:01'), 'windows[0].end', /"24:01"/);
    expectInvalid(withTimes('09:00', '09:00'), 'windows[0].end', /must be after start.*two windows/);
    expectInvalid(withTimes('22:00', '06:00'), 'windows[0].end', /must be after start/);
    expectInvalid(
      { timeZone: 'UTC', windows: [{ ...window, extra: 1 }] },
      'windows[0].extra',
      /not a known field/,
    );
    expectInvalid({ timeZone: 'UTC', windows: ['09:00-18:00'] }, 'windows[0]', /must be an object/);
  });
});

describe('calling windows in a zone without DST (Asia/Shanghai, UTC+8)', () => {
  // Weekdays 09:00–12:00 and 13:30–18:00. 2027-03-15 is a Monday.
  const office = schedule(
    'Asia/Shanghai',
    [[1, 2, 3, 4, 5], '09:00', '12:00'],
    [[1, 2, 3, 4, 5], '13:30', '18:00'],
  );

  it('is open from start (inclusive) to end (exclusive), to the millisecond', () => {
    expect(isWithinSchedule(office, at('2027-03-15T00:59:59.999Z'))).toBe(false);
    expect(isWithinSchedule(office, at('2027-03-15T01:00:00.000Z'))).toBe(true);
    expect(isWithinSchedule(office, at('2027-03-15T03:59:59.999Z'))).toBe(true);
    expect(isWithinSchedule(office, at('2027-03-15T04:00:00.000Z'))).toBe(false);
    expect(isWithinSchedule(office, at('2027-03-15T05:30:00.000Z'))).toBe(true);
    expect(isWithinSchedule(office, at('2027-03-15T10:00:00.000Z'))).toBe(false);
  });

  it('opens now when open, else at the next start', () => {
    expect(nextOpeningMs(office, at('2027-03-15T01:00:00Z'))).toBe(at('2027-03-15T01:00:00Z'));
    expect(nextOpeningMs(office, at('2027-03-15T00:59:59.999Z'))).toBe(at('2027-03-15T01:00:00Z'));
    expect(nextOpeningMs(office, at('2027-03-15T04:00:00Z'))).toBe(at('2027-03-15T05:30:00Z'));
    expect(nextOpeningMs(office, at('2027-03-15T10:00:00Z'))).toBe(at('2027-03-16T01:00:00Z'));
  });

  it('skips the weekend: Friday 18:00 opens again on Monday 09:00', () => {
    expect(nextOpeningMs(office, at('2027-03-19T10:00:00Z'))).toBe(at('2027-03-22T01:00:00Z'));
    expect(isWithinSchedule(office, at('2027-03-20T03:00:00Z'))).toBe(false);
  });

  it('closes at the end of the current window, and not at all when closed', () => {
    expect(nextClosingMs(office, at('2027-03-15T01:00:00Z'))).toBe(at('2027-03-15T04:00:00Z'));
    expect(nextClosingMs(office, at('2027-03-15T03:59:59.999Z'))).toBe(at('2027-03-15T04:00:00Z'));
    expect(nextClosingMs(office, at('2027-03-15T04:00:00Z'))).toBeNull();
  });

  it('serves windows on specific weekdays only', () => {
    const saturdayMorning = schedule('Asia/Shanghai', [[6], '10:00', '11:00']);
    // From Monday: Saturday 2027-03-20 10:00 local.
    expect(nextOpeningMs(saturdayMorning, at('2027-03-15T00:00:00Z'))).toBe(at('2027-03-20T02:00:00Z'));
    // Just after it closes: the next Saturday, 7 days on.
    expect(nextOpeningMs(saturdayMorning, at('2027-03-20T03:00:00Z'))).toBe(at('2027-03-27T02:00:00Z'));
    const weekend = schedule('Asia/Shanghai', [[6, 7], '10:00', '11:00']);
    expect(nextOpeningMs(weekend, at('2027-03-20T03:00:00Z'))).toBe(at('2027-03-21T02:00:00Z'));
  });

  it('treats touching and overlapping windows, across midnight, as one open period', () => {
    const night = schedule(
      'Asia/Shanghai',
      [[1], '20:00', '23:00'],
      [[1], '22:00', '24:00'],
      [[2], '00:00', '06:00'],
    );
    // Monday 2027-03-15 21:00 local → Tuesday 06:00 local.
    expect(nextClosingMs(night, at('2027-03-15T13:00:00Z'))).toBe(at('2027-03-15T22:00:00Z'));
    expect(isWithinSchedule(night, at('2027-03-15T16:00:00Z'))).toBe(true); // Tuesday 00:00 local
  });

  it('is always open with 00:00–24:00 every day: no closing within the horizon', () => {
    const always = schedule('Asia/Shanghai', [[1, 2, 3, 4, 5, 6, 7], '00:00', '24:00']);
    expect(nextOpeningMs(always, at('2027-03-15T00:00:00Z'))).toBe(at('2027-03-15T00:00:00Z'));
    expect(nextClosingMs(always, at('2027-03-15T00:00:00Z'))).toBeNull();
  });

  it('never opens without windows (an unvalidated schedule)', () => {
    expect(nextOpeningMs({ timeZone: 'UTC', windows: [] }, 0)).toBeNull();
  });
});

describe('calling windows across US DST changes (America/New_York)', () => {
  // 2027-03-14 (Sunday): 02:00 EST → 03:00 EDT at 07:00Z. 2027-11-07 (Sunday): 02:00 EDT → 01:00 EST at 06:00Z.

  it('spring forward: a window from 02:30 opens when local time jumps past it', () => {
    const early = schedule('America/New_York', [[7], '02:30', '04:00']);
    expect(nextOpeningMs(early, at('2027-03-13T12:00:00Z'))).toBe(at('2027-03-14T07:00:00Z'));
    expect(isWithinSchedule(early, at('2027-03-14T06:59:59.999Z'))).toBe(false); // 01:59:59.999 EST
    expect(isWithinSchedule(early, at('2027-03-14T07:00:00Z'))).toBe(true); // 03:00 EDT
    expect(nextClosingMs(early, at('2027-03-14T07:00:00Z'))).toBe(at('2027-03-14T08:00:00Z')); // 04:00 EDT
  });

  it('spring forward: a window inside the gap does not open that day', () => {
    const gap = schedule('America/New_York', [[7], '02:00', '02:30']);
    // The following Sunday 02:00 EDT.
    expect(nextOpeningMs(gap, at('2027-03-14T05:00:00Z'))).toBe(at('2027-03-21T06:00:00Z'));
  });

  it('spring forward: a window spanning the gap stays open across it', () => {
    const spanning = schedule('America/New_York', [[7], '01:00', '03:30']);
    expect(isWithinSchedule(spanning, at('2027-03-14T06:59:59.999Z'))).toBe(true);
    expect(isWithinSchedule(spanning, at('2027-03-14T07:00:00Z'))).toBe(true);
    expect(nextClosingMs(spanning, at('2027-03-14T06:00:00Z'))).toBe(at('2027-03-14T07:30:00Z')); // 03:30 EDT
  });

  it('fall back: a window from 01:30 opens at the first 01:30, pauses while the clock reads 01:00–01:30 again', () => {
    const early = schedule('America/New_York', [[7], '01:30', '05:00']);
    const firstOpening = nextOpeningMs(early, at('2027-11-06T12:00:00Z'));
    expect(firstOpening).toBe(at('2027-11-07T05:30:00Z')); // 01:30 EDT
    expect(nextClosingMs(early, at('2027-11-07T05:30:00Z'))).toBe(at('2027-11-07T06:00:00Z')); // back to 01:00 EST
    expect(isWithinSchedule(early, at('2027-11-07T06:15:00Z'))).toBe(false); // 01:15 EST
    expect(nextOpeningMs(early, at('2027-11-07T06:00:00Z'))).toBe(at('2027-11-07T06:30:00Z')); // 01:30 EST
    expect(nextClosingMs(early, at('2027-11-07T06:30:00Z'))).toBe(at('2027-11-07T10:00:00Z')); // 05:00 EST
  });

  it('fall back: local time jumping back into a window opens it at the jump', () => {
    const repeated = schedule('America/New_York', [[7], '00:30', '01:30']);
    expect(nextOpeningMs(repeated, at('2027-11-07T00:00:00Z'))).toBe(at('2027-11-07T04:30:00Z')); // 00:30 EDT
    expect(nextClosingMs(repeated, at('2027-11-07T04:30:00Z'))).toBe(at('2027-11-07T05:30:00Z')); // first 01:30
    expect(nextOpeningMs(repeated, at('2027-11-07T05:30:00Z'))).toBe(at('2027-11-07T06:00:00Z')); // 01:00 EST
    expect(nextClosingMs(repeated, at('2027-11-07T06:00:00Z'))).toBe(at('2027-11-07T06:30:00Z')); // second 01:30
  });

  it('keeps local hours on the days either side of a change', () => {
    const office = schedule('America/New_York', [[1, 2, 3, 4, 5], '09:00', '17:00']);
    // Friday 2027-03-12 17:00 EST → Monday 2027-03-15 09:00 EDT (13:00Z, an hour earlier in UTC).
    expect(nextOpeningMs(office, at('2027-03-12T22:00:00Z'))).toBe(at('2027-03-15T13:00:00Z'));
    expect(nextClosingMs(office, at('2027-03-15T13:00:00Z'))).toBe(at('2027-03-15T21:00:00Z'));
    // Friday 2027-11-05 17:00 EDT → Monday 2027-11-08 09:00 EST (14:00Z).
    expect(nextOpeningMs(office, at('2027-11-05T21:00:00Z'))).toBe(at('2027-11-08T14:00:00Z'));
  });

  it('agrees with a minute-by-minute scan around the fall-back night', () => {
    const night = schedule(
      'America/New_York',
      [[6], '23:00', '24:00'],
      [[7], '00:45', '01:15'],
      [[7], '01:50', '03:00'],
    );
    const from = at('2027-11-07T02:00:00Z');
    const open: boolean[] = [];
    for (let t = from; t < from + 12 * HOUR; t += MINUTE) open.push(isWithinSchedule(night, t));
    for (let i = 0; i < open.length; i++) {
      const firstOpen = open.indexOf(true, i);
      if (firstOpen < 0) break;
      expect(nextOpeningMs(night, from + i * MINUTE)).toBe(from + firstOpen * MINUTE);
      if (open[i]) {
        const firstClosed = open.indexOf(false, i);
        expect(nextClosingMs(night, from + i * MINUTE)).toBe(from + firstClosed * MINUTE);
      }
    }
    // Saturday 23:00–24:00, 00:45–01:15 EDT, 01:50–02:00 EDT, then in the repeated hour 01:00–01:15 EST,
    // and 01:50–03:00 EST.
    expect(open.filter(Boolean).length).toBe(60 + 30 + 10 + 15 + 70);
  });
});

describe('calling windows across EU DST changes (Europe/Berlin)', () => {
  // 2027-03-28: 02:00 CET → 03:00 CEST at 01:00Z. 2027-10-31: 03:00 CEST → 02:00 CET at 01:00Z.

  it('spring forward: a window from 02:30 opens at the jump to 03:00 CEST', () => {
    const early = schedule('Europe/Berlin', [[7], '02:30', '04:00']);
    expect(nextOpeningMs(early, at('2027-03-27T12:00:00Z'))).toBe(at('2027-03-28T01:00:00Z'));
    expect(nextClosingMs(early, at('2027-03-28T01:00:00Z'))).toBe(at('2027-03-28T02:00:00Z'));
  });

  it('fall back: a window from 02:30 opens at the first 02:30 and again at the second', () => {
    const early = schedule('Europe/Berlin', [[7], '02:30', '06:00']);
    expect(nextOpeningMs(early, at('2027-10-30T12:00:00Z'))).toBe(at('2027-10-31T00:30:00Z')); // 02:30 CEST
    expect(nextClosingMs(early, at('2027-10-31T00:30:00Z'))).toBe(at('2027-10-31T01:00:00Z')); // back to 02:00 CET
    expect(nextOpeningMs(early, at('2027-10-31T01:00:00Z'))).toBe(at('2027-10-31T01:30:00Z')); // 02:30 CET
    expect(nextClosingMs(early, at('2027-10-31T01:30:00Z'))).toBe(at('2027-10-31T05:00:00Z')); // 06:00 CET
  });

  it('fall back: a window at 01:30 (before the change) is an ordinary hour', () => {
    const early = schedule('Europe/Berlin', [[7], '01:30', '02:00']);
    expect(nextOpeningMs(early, at('2027-10-30T12:00:00Z'))).toBe(at('2027-10-30T23:30:00Z'));
    expect(nextClosingMs(early, at('2027-10-30T23:30:00Z'))).toBe(at('2027-10-31T00:00:00Z'));
  });

  it('keeps local office hours when the offset changes over a weekend', () => {
    const office = schedule('Europe/Berlin', [[1, 2, 3, 4, 5], '09:00', '17:00']);
    expect(nextOpeningMs(office, at('2027-03-26T16:00:00Z'))).toBe(at('2027-03-29T07:00:00Z'));
    expect(nextOpeningMs(office, at('2027-10-29T15:00:00Z'))).toBe(at('2027-11-01T08:00:00Z'));
  });
});

describe('calling windows (properties)', () => {
  const zones = ['Asia/Shanghai', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kolkata'];
  const time = fc.integer({ min: 0, max: 24 * 60 });
  const windowArb = fc
    .record({
      days: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
      a: time,
      b: time,
    })
    .filter(({ a, b }) => a !== b)
    .map(({ days, a, b }) => {
      const hhmm = (minutes: number) =>
        `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
      return { days, start: hhmm(Math.min(a, b)), end: hhmm(Math.max(a, b)) };
    });
  const scheduleArb = fc
    .record({
      timeZone: fc.constantFrom(...zones),
      windows: fc.array(windowArb, { minLength: 1, maxLength: 4 }),
    })
    .map((value) => validateCallingSchedule(value));
  // Instants around 2026–2028, with a bias to the DST nights where the interesting cases are.
  const dstNights = [
    at('2027-03-14T07:00:00Z'),
    at('2027-11-07T06:00:00Z'),
    at('2027-03-28T01:00:00Z'),
    at('2027-10-31T01:00:00Z'),
    at('2027-04-04T15:00:00Z'),
  ];
  const instant = fc.oneof(
    fc.integer({ min: at('2026-01-01T00:00:00Z'), max: at('2028-12-31T00:00:00Z') }),
    fc
      .tuple(fc.constantFrom(...dstNights), fc.integer({ min: -3 * DAY, max: 3 * HOUR }))
      .map(([night, d]) => night + d),
  );

  it('nextOpeningMs is open, and nothing sampled before it is', () => {
    fc.assert(
      fc.property(
        scheduleArb,
        instant,
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { maxLength: 40 }),
        (s, t, fractions) => {
          const opening = nextOpeningMs(s, t);
          // Every window recurs weekly and no DST gap lasts a week: it always opens within the horizon.
          expect(opening).not.toBeNull();
          const o = opening as number;
          expect(o).toBeGreaterThanOrEqual(t);
          expect(isWithinSchedule(s, o)).toBe(true);
          if (o > t) {
            expect(isWithinSchedule(s, t)).toBe(false);
            expect(isWithinSchedule(s, o - 1)).toBe(false);
            for (const f of fractions) expect(isWithinSchedule(s, t + Math.floor(f * (o - t)))).toBe(false);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('nextClosingMs ends the open period: open up to it, closed at it', () => {
    fc.assert(
      fc.property(
        scheduleArb,
        instant,
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { maxLength: 40 }),
        (s, t, fractions) => {
          const o = nextOpeningMs(s, t) as number;
          const closing = nextClosingMs(s, o);
          if (closing === null) return; // open for the whole horizon
          expect(closing).toBeGreaterThan(o);
          expect(isWithinSchedule(s, closing)).toBe(false);
          expect(isWithinSchedule(s, closing - 1)).toBe(true);
          for (const f of fractions)
            expect(isWithinSchedule(s, o + Math.floor(f * (closing - o)))).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('isWithinSchedule agrees with an independent reading of the local clock', () => {
    const readers = new Map(
      zones.map((zone) => [
        zone,
        new Intl.DateTimeFormat('en-GB', {
          timeZone: zone,
          weekday: 'short',
          hour: '2-digit',
          minute: '2-digit',
          hourCycle: 'h23',
        }),
      ]),
    );
    const isoDay: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
    fc.assert(
      fc.property(scheduleArb, instant, (s, t) => {
        const parts = (readers.get(s.timeZone) as Intl.DateTimeFormat).formatToParts(t);
        const read = (type: string) => parts.find((part) => part.type === type)?.value ?? '';
        const weekday = isoDay[read('weekday')];
        const hhmm = `${read('hour')}:${read('minute')}`;
        const expected = s.windows.some(
          (w) => weekday !== undefined && w.days.includes(weekday) && w.start <= hhmm && hhmm < w.end,
        );
        expect(isWithinSchedule(s, t)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
