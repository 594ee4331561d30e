/**
 * Regenerates src/sim/recorded-call-scripts.ts from the recorded FreeSWITCH traffic
 * (../shared/fixtures/freeswitch-esl). Run: npx tsx test/sim/tools/extract-call-scripts.ts
 *
 * Why generated: a channel event carries 50–225 headers whose names and order FreeSWITCH decides
 * (channel variables move to the end whenever they are set again). Copying them by hand would
 * drift; extracting them keeps the simulator byte-structure-identical to the recordings. Values
 * that vary per call are replaced by `{placeholders}` the simulator fills in; the rest stay as
 * recorded (already URL-encoded, as on the wire).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTranscript } from '../../support/esl-fixtures.js';

interface RecordedEvent {
  name: string;
  common: Map<string, string>;
  head: [string, string][];
  vars: [string, string][] | null;
  tail: [string, string][];
  body: string;
}

const COMMON_HEADER_COUNT = 13; // Event-Name … Event-Sequence
/** Fired by the core's scheduler on the wall clock, not by the call (heartbeat.ts makes them). */
const CLOCK_EVENTS = new Set(['HEARTBEAT', 'RE_SCHEDULE']);
const USER_VARS = new Set([
  'origination_uuid',
  'origination_caller_id_number',
  'originate_timeout',
  'my_worker_id',
]);
export const USER_VARS_MARKER = '{USER_VARS}';

function recordedEvents(fixture: string, connection: string): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  for (const record of readTranscript(fixture)) {
    if (record.direction !== 'S->C' || record.connection !== connection) continue;
    const text = record.bytes.toString('latin1');
    if (!text.includes('Content-Type: text/event-plain')) continue;
    const body = text.slice(text.indexOf('\n\n') + 2);
    const blockEnd = body.indexOf('\n\n');
    const lines = body
      .slice(0, blockEnd)
      .split('\n')
      .map((line): [string, string] => [
        line.slice(0, line.indexOf(': ')),
        line.slice(line.indexOf(': ') + 2),
      ]);
    const common = new Map(lines.slice(0, COMMON_HEADER_COUNT));
    const rest = lines.slice(COMMON_HEADER_COUNT);
    const firstVar = rest.findIndex(([name]) => name.startsWith('variable_'));
    let afterVars = firstVar;
    while (afterVars !== -1 && afterVars < rest.length && rest[afterVars]![0].startsWith('variable_'))
      afterVars++;
    events.push({
      name: lines[0]![1],
      common,
      head: firstVar === -1 ? rest : rest.slice(0, firstVar),
      vars: firstVar === -1 ? null : rest.slice(firstVar, afterVars),
      tail: firstVar === -1 ? [] : rest.slice(afterVars),
      body: body.slice(blockEnd + 2),
    });
  }
  return events;
}

const BY_NAME: Record<string, string> = {
  'Unique-ID': '{uuid}',
  'Channel-Call-UUID': '{uuid}',
  'Caller-Unique-ID': '{uuid}',
  variable_uuid: '{uuid}',
  variable_call_uuid: '{uuid}',
  variable_session_id: '{session_id}',
  variable_sip_call_id: '{sip_call_id}',
  'Caller-Profile-Created-Time': '{created_us}',
  'Caller-Channel-Created-Time': '{created_us}',
  'Caller-Channel-Answered-Time': '{answered_us}',
  'Caller-Channel-Progress-Time': '{progress_us}',
  'Caller-Channel-Hangup-Time': '{hangup_us}',
  'Hangup-Cause': '{cause}',
  variable_hangup_cause: '{cause}',
  variable_hangup_cause_q850: '{q850}',
  variable_sip_term_cause: '{q850}',
  variable_sip_term_status: '{sip_status}',
  variable_sip_invite_failure_status: '{sip_status}',
  variable_sip_invite_failure_phrase: '{sip_phrase}',
  variable_proto_specific_hangup_cause: 'sip%3A{sip_status}',
  variable_sip_hangup_disposition: '{disposition}',
  'Application-UUID': '{app_uuid}',
};
const CDR_TIMES = ['start', 'profile_start', 'answer', 'progress', 'end'];
for (const time of CDR_TIMES) {
  for (const suffix of ['stamp', 'epoch', 'uepoch'])
    BY_NAME[`variable_${time}_${suffix}`] = `{${time}_${suffix}}`;
}
const CDR_DURATIONS = [
  'duration',
  'billsec',
  'progresssec',
  'answersec',
  'waitsec',
  'progress_mediasec',
  'flow_billsec',
];
for (const name of CDR_DURATIONS) {
  const base = name.replace(/sec$/, '');
  const unit = (u: string) => (name === 'duration' ? `${u}duration` : `${base}${u}sec`);
  BY_NAME[`variable_${name}`] = `{${name}}`;
  BY_NAME[`variable_${unit('m')}`] = `{${unit('m')}}`;
  BY_NAME[`variable_${unit('u')}`] = `{${unit('u')}}`;
}

function placeholderValue(name: string, value: string, call: { uuid: string }): string {
  const byName = BY_NAME[name];
  if (byName !== undefined) return byName;
  return value
    .replaceAll(call.uuid, '{uuid}')
    .replaceAll('13800000001', '{dest}')
    .replaceAll('carrier1', '{gw}')
    .replace(/(?<![0-9A-Za-z])1001(?![0-9])/g, '{cid}');
}

interface ScriptStep {
  event: string;
  calledFrom: [string, string, string];
  head: string;
  vars: { del: string[]; set: [string, string][] } | null;
  /** Headers FreeSWITCH adds after the variables (Application, Application-UUID, …). */
  tail: string | null;
}

const headBlocks = new Map<string, string[]>();
function headBlockId(lines: string[]): string {
  const key = lines.join('\n');
  for (const [id, block] of headBlocks) if (block.join('\n') === key) return id;
  const id = `h${headBlocks.size + 1}`;
  headBlocks.set(id, lines);
  return id;
}

function collapseUserVars(vars: [string, string][]): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of vars) {
    const bare = name.slice('variable_'.length);
    if (USER_VARS.has(bare)) {
      if (!out.some(([n]) => n === USER_VARS_MARKER)) out.push([USER_VARS_MARKER, '']);
    } else out.push([name, value]);
  }
  return out;
}

/** Variables are an ordered set where setting one again moves it to the end: express each
 * snapshot as deletions plus (re-)appends relative to the previous one. */
function diffVars(
  previous: [string, string][],
  next: [string, string][],
): { del: string[]; set: [string, string][] } {
  const nextNames = next.map(([n]) => n);
  let kept = 0;
  let cursor = 0;
  const previousNames = previous.map(([n]) => n);
  while (kept < next.length) {
    const at = previousNames.indexOf(nextNames[kept]!, cursor);
    if (at === -1) break;
    cursor = at + 1;
    kept++;
  }
  const keptNames = new Set(nextNames.slice(0, kept));
  return {
    del: previousNames.filter((n) => !keptNames.has(n)),
    set: next.slice(kept),
  };
}

function steps(
  fixture: string,
  from: number,
  to: number,
  previousVars: [string, string][],
  connection = 'A',
): {
  steps: (ScriptStep | 'BACKGROUND_JOB')[];
  lastVars: [string, string][];
} {
  const events = recordedEvents(fixture, connection);
  const uuid = events
    .find((e) => e.head.some(([n]) => n === 'Unique-ID'))!
    .head.find(([n]) => n === 'Unique-ID')![1];
  const out: (ScriptStep | 'BACKGROUND_JOB')[] = [];
  let vars = previousVars;
  const slice = events.slice(from, to);
  for (const [index, event] of slice.entries()) {
    if (event.name === 'BACKGROUND_JOB') {
      out.push('BACKGROUND_JOB');
      continue;
    }
    if (event.name === 'API') {
      // The simulator fires the API event of every api/bgapi itself; the recording says where.
      if (slice[index + 1]?.name !== 'BACKGROUND_JOB')
        throw new Error(`${fixture}: the API event is not right before BACKGROUND_JOB`);
      continue;
    }
    if (CLOCK_EVENTS.has(event.name)) continue;
    const head = event.head.map(([n, v]) => `${n}: ${placeholderValue(n, v, { uuid })}`);
    let varOps: ScriptStep['vars'] = null;
    if (event.vars) {
      const next = collapseUserVars(event.vars).map(([n, v]): [string, string] => [
        n,
        placeholderValue(n, v, { uuid }),
      ]);
      varOps = diffVars(vars, next);
      vars = next;
    }
    out.push({
      event: event.name,
      calledFrom: [
        event.common.get('Event-Calling-File')!,
        event.common.get('Event-Calling-Function')!,
        event.common.get('Event-Calling-Line-Number')!,
      ],
      head: headBlockId(head),
      vars: varOps,
      tail: event.tail.length
        ? headBlockId(event.tail.map(([n, v]) => `${n}: ${placeholderValue(n, v, { uuid })}`))
        : null,
    });
  }
  return { steps: out, lastVars: vars };
}

const F20 = '20-originate-answered-uas-bye-plain.txt';
// 36 is the same call as 20 under `event plain ALL`: its answer stage also has the CODEC and
// CALL_UPDATE events that a narrower subscription does not show (and the API event of the bgapi).
const F36 = '36-originate-answered-event-plain-ALL.txt';
const setup = steps(F20, 0, 6, []);
const ringing = steps(F20, 6, 8, setup.lastVars);
const answer = steps(F36, 8, 18, ringing.lastVars);
const remoteBye = steps(F20, 14, 23, answer.lastVars);
const killAfterAnswer = steps('21-originate-answered-uuid-kill-plain.txt', 14, 23, answer.lastVars);
// 90's B listens to the call's events only (A's ALL interleaves MODULE_UNLOAD with them). After a
// SYSTEM_SHUTDOWN hangup even CHANNEL_STATE and CHANNEL_CALLSTATE carry the variables.
const shutdownAfterAnswer = steps('90-fsctl-shutdown-disconnect-notice.txt', 14, 23, answer.lastVars, 'B');
const refused = steps('22-originate-busy-486-plain.txt', 6, 15, setup.lastVars);
const noAnswer = steps('23-originate-no-answer-timeout-plain.txt', 8, 17, ringing.lastVars);
const invalidGateway = steps('60-originate-bad-dial-strings.txt', 2, 5, []);

const scripts = {
  setup,
  ringing,
  answer,
  remoteBye,
  killAfterAnswer,
  shutdownAfterAnswer,
  refused,
  noAnswer,
  invalidGateway,
};
const out: string[] = [
  '/**',
  ' * GENERATED by test/sim/tools/extract-call-scripts.ts from the recorded FreeSWITCH 1.10.12 traffic',
  ' * (../shared/fixtures/freeswitch-esl 20, 21, 22, 23, 36, 60, 90). Do not edit by hand; re-run the tool.',
  ' *',
  ' * A script is the ordered list of events FreeSWITCH fires for one stage of an outbound call.',
  ' * `head` names a block of channel headers (after the 13 common ones); `vars` says how the',
  ' * channel-variable list changed since the previous event that carried variables. Values hold',
  ' * `{placeholders}` filled per call; `{USER_VARS}` stands for the originate `{…}` variables.',
  ' */',
  "import type { RecordedScript } from './call-script-types.js';",
  '',
  `export const HEAD_BLOCKS: Record<string, readonly string[]> = ${JSON.stringify(Object.fromEntries(headBlocks), null, 1)};`,
  '',
];
for (const [name, script] of Object.entries(scripts)) {
  out.push(
    `export const ${name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}: RecordedScript = ${JSON.stringify(script.steps, null, 1)};`,
    '',
  );
}
const target = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'src',
  'sim',
  'recorded-call-scripts.ts',
);
writeFileSync(target, out.join('\n'));
console.log(`wrote ${target}`);
