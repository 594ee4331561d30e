/**
 * Structural comparison of server frames: what must match a recording (content types, header
 * names and their order, reply texts, event names and order) and what may vary (uuids, dates,
 * sequence numbers, counters, hostnames).
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

/** Differences between a recorded frame list and the simulator's, as readable lines. */
export function structuralDiff(expected: readonly Frame[], actual: readonly Frame[]): string[] {
  const diffs: string[] = [];
  if (expected.length !== actual.length) {
    diffs.push(`frame count ${actual.length}, recorded ${expected.length}`);
  }
  const n = Math.min(expected.length, actual.length);
  for (let i = 0; i < n; i++) {
    const want = expected[i]!;
    const got = actual[i]!;
    const at = `frame ${i} (${describe(want)})`;
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
      if (wantEvent !== gotEvent)
        diffs.push(`${at}: event headers differ:\n${lineDiff(wantEvent, gotEvent)}`);
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
