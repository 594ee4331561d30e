/**
 * Structural comparison of server frames: what must match a recording (content types, header
 * names and their order, reply texts, event names and order) and what may vary (uuids, dates,
 * sequence numbers, counters, hostnames), and the scheduler's clock events, which are compared
 * apart from the ordered frames (clockEventKind).
 */
import { type Frame, header } from './wire-client.js';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

export function normalise(text: string): string {
  return text.replace(UUID, '<uuid>').replace(/\d+/g, 'N');
}

/** `"name":"value"` pairs of a FreeSWITCH JSON event, in order, duplicates kept. */
export function jsonPairs(text: string): [string, string][] {
  return [...text.matchAll(/"((?:[^"\\]|\\.)*)":"((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]);
}

function describe(frame: Frame): string {
  const type = header(frame, 'Content-Type');
  if (frame.event) return `event ${header(frame.event, 'Event-Name')}`;
  if (type === 'text/event-json') return `json ${jsonPairs(frame.body)[0]?.[1]}`;
  return `${type} ${header(frame, 'Reply-Text') ?? JSON.stringify(frame.body.slice(0, 40))}`;
}

/** The value of an event header, whether the frame is text/event-plain or text/event-json. */
function eventHeader(frame: Frame, name: string): string | undefined {
  if (frame.event) return header(frame.event, name);
  if (header(frame, 'Content-Type') === 'text/event-json') {
    return jsonPairs(frame.body).find(([key]) => key === name)?.[1];
  }
  return undefined;
}

/**
 * HEARTBEAT and RE_SCHEDULE come from the core's scheduler on the wall clock (every 20 s from the
 * switch's start-up; check_ip's RE_SCHEDULE every 60 s), so whether and where they fall among a
 * recording's frames depends on when it was made, not on anything the client did (36 caught one
 * HEARTBEAT and two RE_SCHEDULEs mid-call). This names such a frame's kind; it is undefined for
 * every other frame.
 */
export function clockEventKind(frame: Frame): string | undefined {
  const name = eventHeader(frame, 'Event-Name');
  if (name === 'HEARTBEAT') return name;
  if (name === 'RE_SCHEDULE') return `${name} ${eventHeader(frame, 'Task-Desc')}`;
  return undefined;
}

/**
 * Differences between a recorded frame list and the simulator's, as readable lines. Frames are
 * compared in order, except the clock events (clockEventKind), which are compared apart: each
 * the simulator sent must have the structure of the first recorded one of its kind, and each
 * kind the recording has must have been sent.
 */
export function structuralDiff(expected: readonly Frame[], actual: readonly Frame[]): string[] {
  const isOrdered = (frame: Frame) => clockEventKind(frame) === undefined;
  const want = expected.filter(isOrdered);
  const got = actual.filter(isOrdered);
  const diffs: string[] = [];
  if (want.length !== got.length) diffs.push(`frame count ${got.length}, recorded ${want.length}`);
  for (let i = 0; i < Math.min(want.length, got.length); i++) {
    diffs.push(...frameDiff(want[i]!, got[i]!, `frame ${i} (${describe(want[i]!)})`));
  }
  return [...diffs, ...clockEventDiff(expected, actual)];
}

function clockEventDiff(expected: readonly Frame[], actual: readonly Frame[]): string[] {
  const recorded = new Map<string, Frame>();
  for (const frame of expected) {
    const kind = clockEventKind(frame);
    if (kind !== undefined && !recorded.has(kind)) recorded.set(kind, frame);
  }
  const diffs: string[] = [];
  const sent = new Set<string>();
  for (const frame of actual) {
    const kind = clockEventKind(frame);
    if (kind === undefined) continue;
    sent.add(kind);
    const want = recorded.get(kind);
    if (want === undefined) diffs.push(`clock event ${kind} sent, the recording has none`);
    else diffs.push(...frameDiff(want, frame, `clock event ${kind}`));
  }
  for (const kind of recorded.keys()) {
    if (!sent.has(kind)) diffs.push(`clock event ${kind} recorded, never sent`);
  }
  return [...new Set(diffs)];
}

function frameDiff(want: Frame, got: Frame, at: string): string[] {
  const diffs: string[] = [];
  const wantNames = want.headers.map(([name]) => name).join(',');
  const gotNames = got.headers.map(([name]) => name).join(',');
  if (wantNames !== gotNames) diffs.push(`${at}: headers [${gotNames}], recorded [${wantNames}]`);
  const reply = header(want, 'Reply-Text');
  if (reply !== undefined && normalise(reply) !== normalise(header(got, 'Reply-Text') ?? '')) {
    diffs.push(`${at}: Reply-Text ${header(got, 'Reply-Text')}`);
  }
  const type = header(want, 'Content-Type');
  if (want.event && got.event) {
    const wantEvent = want.event.headers.map(([name]) => name).join('\n');
    const gotEvent = got.event.headers.map(([name]) => name).join('\n');
    if (wantEvent !== gotEvent) diffs.push(`${at}: event headers differ:\n${lineDiff(wantEvent, gotEvent)}`);
    if (normalise(want.event.body) !== normalise(got.event.body)) {
      diffs.push(
        `${at}: event body ${JSON.stringify(got.event.body)}, recorded ${JSON.stringify(want.event.body)}`,
      );
    }
    for (const name of [
      'Event-Name',
      'Channel-State',
      'Channel-Call-State',
      'Answer-State',
      'Hangup-Cause',
    ]) {
      if (header(want.event, name) !== header(got.event, name)) {
        diffs.push(`${at}: ${name} ${header(got.event, name)}, recorded ${header(want.event, name)}`);
      }
    }
  } else if (type === 'text/event-json') {
    const wantKeys = jsonPairs(want.body).map(([k]) => k);
    const gotKeys = jsonPairs(got.body).map(([k]) => k);
    if (wantKeys.join('\n') !== gotKeys.join('\n')) {
      diffs.push(`${at}: json keys differ:\n${lineDiff(wantKeys.join('\n'), gotKeys.join('\n'))}`);
    }
    if (got.body.endsWith('\n')) diffs.push(`${at}: json body ends with a newline`);
  } else if (type === 'api/response' || type === 'text/disconnect-notice') {
    if (normalise(want.body) !== normalise(got.body)) {
      diffs.push(`${at}: body ${JSON.stringify(got.body)}, recorded ${JSON.stringify(want.body)}`);
    }
  }
  return diffs;
}

function lineDiff(want: string, got: string): string {
  const a = want.split('\n');
  const b = got.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `  first difference at line ${i}: got ${b[i]}, recorded ${a[i]}`;
  }
  return '';
}
