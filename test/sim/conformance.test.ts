/**
 * Replays the client side of recorded real-FreeSWITCH sessions against the simulator and checks
 * that what comes back has the recorded structure (structure.ts says what may vary).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CarrierModel, SimProfile } from '../../src/sim/index.js';
import { type SimCluster, startSimCluster } from '../../src/sim/index.js';
import { readTranscript, serverStream, type TranscriptRecord } from '../support/esl-fixtures.js';
import { clockEventKind, structuralDiff } from './structure.js';
import { type Frame, parseFrames, WireClient } from './wire-client.js';

const NEVER = { minMs: 1e9, maxMs: 1e9 };
function carrier(outcome: Partial<CarrierModel>): CarrierModel {
  return {
    answer: 0,
    busy: 0,
    noAnswer: 0,
    invalid: 0,
    congestion: 0,
    ringMs: { minMs: 1000, maxMs: 1000 },
    talkMs: { minMs: 3000, maxMs: 3000 },
    ...outcome,
  };
}

const ANSWER_THEN_BYE = carrier({ answer: 1 });
const ANSWER_AND_HOLD = carrier({ answer: 1, talkMs: NEVER });
const BUSY = carrier({ busy: 1 });

/**
 * The carrier behaviour each recording was made with (its SIPp scenario). Every fixture is
 * replayed. The clock events of 36 and 50 (HEARTBEAT, RE_SCHEDULE) are compared by kind, not by
 * position (structure.ts); their 20 s cadence and counters are checked in behaviour.test.ts.
 * 90's shutdown unloads the recorded build's modules (the simulator's default module list) and
 * stops the recorded sofia profiles; shutdown-and-sendmsg.test.ts checks what varies with them.
 */
const SCENARIOS: Record<string, CarrierModel> = {
  '01-auth-ok.txt': BUSY,
  '02-auth-wrong-password.txt': BUSY,
  '03-command-before-auth.txt': BUSY,
  '10-api-status.txt': BUSY,
  '11-api-show-calls-count.txt': BUSY,
  '12-api-sofia-status.txt': BUSY,
  '13-api-sofia-status-gateway-carrier1.txt': BUSY,
  '14-api-version.txt': BUSY,
  '15-api-errors.txt': BUSY,
  '16-bgapi-status.txt': BUSY,
  '17-api-queries-during-active-call.txt': ANSWER_AND_HOLD,
  '20-originate-answered-uas-bye-plain.txt': ANSWER_THEN_BYE,
  '21-originate-answered-uuid-kill-plain.txt': ANSWER_AND_HOLD,
  '22-originate-busy-486-plain.txt': BUSY,
  '23-originate-no-answer-timeout-plain.txt': carrier({ noAnswer: 1 }),
  '25-originate-404-plain.txt': carrier({ invalid: 1 }),
  '26-originate-503-plain.txt': carrier({ congestion: 1 }),
  '28-originate-408-plain.txt': carrier({ answer: 1, outages: [{ fromMs: 0, toMs: 1e15 }] }),
  '29-originate-busy-custom-job-uuid-plain.txt': BUSY,
  '30-originate-answered-uas-bye-json.txt': ANSWER_THEN_BYE,
  '31-originate-answered-uuid-kill-json.txt': ANSWER_AND_HOLD,
  '32-originate-busy-486-json.txt': BUSY,
  '34-originate-404-json.txt': carrier({ invalid: 1 }),
  '35-originate-503-json.txt': carrier({ congestion: 1 }),
  '36-originate-answered-event-plain-ALL.txt': ANSWER_THEN_BYE,
  '40-filter-worker-id-plain.txt': ANSWER_AND_HOLD,
  '41-filter-worker-id-plus-background-job-plain.txt': BUSY,
  '42-session-commands-nixevent-noevents-linger-exit.txt': BUSY,
  '43-myevents-unknown-uuid.txt': ANSWER_THEN_BYE,
  // The 180 must come after the second socket subscribed: a long ring (its tenth is the 180), slower clock.
  '44-myevents-uuid-closed-on-hangup.txt': carrier({
    answer: 1,
    ringMs: { minMs: 15_000, maxMs: 15_000 },
    talkMs: NEVER,
  }),
  '50-heartbeat-re-schedule-plain.txt': BUSY,
  '60-originate-bad-dial-strings.txt': BUSY,
  '70-injection-newline-in-number.txt': BUSY,
  '71-injection-double-newline-command-smuggling.txt': BUSY,
  '72-injection-brace-in-number.txt': BUSY,
  '74-injection-comma-in-callerid-variable-override.txt': BUSY,
  '90-fsctl-shutdown-disconnect-notice.txt': ANSWER_AND_HOLD,
};

/**
 * The recorded switch (fixtures README): the vanilla config's sofia profiles, whose external
 * profile also carries the vanilla `example.com` gateway (nothing answers it from a loopback-only
 * machine), plus carrier1 behaving as the fixture's SIPp scenario did.
 */
function recordedSwitch(carrier1: CarrierModel): SimProfile {
  return {
    gateways: {
      'example.com': carrier({ answer: 1, outages: [{ fromMs: 0, toMs: 1e15 }] }),
      carrier1,
    },
    sofia: [
      {
        name: 'external',
        url: 'sip:mod_sofia@127.0.0.1:5080',
        aliases: [],
        gateways: [
          { name: 'example.com', registerTo: 'sip:joeuser@example.com' },
          { name: 'carrier1', registerTo: 'sip:carrier1@127.0.0.1:5090' },
        ],
      },
      { name: 'internal', url: 'sip:mod_sofia@127.0.0.1:5060', aliases: ['127.0.0.1'], gateways: [] },
    ],
  };
}

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

/**
 * A real switch's HEARTBEAT comes every 20 s; the replay runs in milliseconds, so the simulator's
 * comes every few: a recording that caught clock events (36) then gets them from the simulator
 * too, and the replay waits for each kind before going on, as the recorded client did.
 */
const HEARTBEAT_INTERVAL_MS = 5;

/** What the simulator owes one connection before the next client step: frames in order, clock events by kind. */
class Expected {
  frames = 0;
  readonly clockKinds = new Set<string>();

  add(frames: readonly Frame[]): void {
    for (const frame of frames) {
      const kind = clockEventKind(frame);
      if (kind === undefined) this.frames++;
      else this.clockKinds.add(kind);
    }
  }

  metBy(received: readonly Frame[]): boolean {
    const kinds = new Set(received.map(clockEventKind));
    const ordered = received.filter((frame) => clockEventKind(frame) === undefined).length;
    return ordered >= this.frames && [...this.clockKinds].every((kind) => kinds.has(kind));
  }
}

/**
 * A recording that caught no clock event (90 listens to ALL for 4.5 s) gets none from the
 * simulator either: its heartbeat keeps the real 20 s cadence, longer than any replay.
 */
const RECORDED_HEARTBEAT_INTERVAL_MS = 20_000;

function hasClockEvents(records: readonly TranscriptRecord[]): boolean {
  return records.some(
    (record) =>
      record.direction === 'S->C' &&
      parseFrames(record.bytes).frames.some((frame) => clockEventKind(frame) !== undefined),
  );
}

async function replay(fixture: string): Promise<string[]> {
  const records = readTranscript(fixture);
  cluster = await startSimCluster({
    nodes: [{ name: 'vm', port: 0 }],
    timeScale: fixture.startsWith('44-') ? 0.05 : 0.001,
    heartbeatIntervalMs: hasClockEvents(records) ? HEARTBEAT_INTERVAL_MS : RECORDED_HEARTBEAT_INTERVAL_MS,
    profile: recordedSwitch(SCENARIOS[fixture]!),
  });
  const port = cluster.nodes[0]!.port;
  const clients = new Map<string, WireClient>();
  const expected = new Map<string, Expected>();
  const waitForExpected = async () => {
    for (const [conn, owed] of expected) {
      const client = clients.get(conn)!;
      await client.waitFor(() => owed.metBy(client.frames) || client.closed);
    }
  };
  const diffs: string[] = [];
  try {
    for (const record of records) {
      if (record.direction === 'CONNECT') {
        await waitForExpected();
        clients.set(record.connection, await WireClient.open(port));
        expected.set(record.connection, new Expected());
      } else if (record.direction === 'S->C') {
        // Records are cut at message boundaries, so each holds whole frames.
        expected.get(record.connection)!.add(parseFrames(record.bytes).frames);
      } else if (record.direction === 'C->S') {
        await waitForExpected();
        clients.get(record.connection)!.send(record.bytes.toString('utf8'));
      } else {
        await waitForExpected();
        const client = clients.get(record.connection)!;
        await client.waitFor(() => client.closed);
      }
    }
    await waitForExpected();
  } catch (error) {
    // A frame the simulator never sends: report how far it got, with the differences so far.
    diffs.push(`replay stopped: ${error instanceof Error ? error.message : String(error)}`);
  }
  for (const [conn, client] of clients) {
    const recorded = parseFrames(serverStream(records, conn)).frames;
    diffs.push(...structuralDiff(recorded, client.frames).map((d) => `${conn}: ${d}`));
    client.close();
  }
  return diffs;
}

describe('the simulator answers like the recorded FreeSWITCH', () => {
  for (const fixture of Object.keys(SCENARIOS)) {
    it(fixture, async () => {
      expect(await replay(fixture)).toEqual([]);
    });
  }
});
