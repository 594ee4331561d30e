/**
 * Replays the client side of recorded real-FreeSWITCH sessions against the simulator and checks
 * that what comes back has the recorded structure (structure.ts says what may vary).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CarrierModel } from '../../src/sim/index.js';
import { type SimCluster, startSimCluster } from '../../src/sim/index.js';
import { readTranscript, serverStream } from '../support/esl-fixtures.js';
import { structuralDiff } from './structure.js';
import { parseFrames, WireClient } from './wire-client.js';

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
 * The carrier behaviour each recording was made with (its SIPp scenario). Not replayed:
 * 12 (`sofia status` of the recording's vanilla config lists an `example.com` gateway the
 * simulator has no reason to invent); 36 (`event plain ALL` on an answered call: CODEC,
 * CALL_UPDATE and API events are not among the extracted call scripts, and the HEARTBEAT /
 * RE_SCHEDULE that fell inside the recorded call depend on wall-clock time); 50 (two HEARTBEATs
 * 20 s apart — covered by behaviour.test.ts); 90 (`fsctl shutdown` unloads ~55 modules of the
 * real build — the behaviour is checked in shutdown-and-sendmsg.test.ts).
 */
const SCENARIOS: Record<string, CarrierModel> = {
  '01-auth-ok.txt': BUSY,
  '02-auth-wrong-password.txt': BUSY,
  '03-command-before-auth.txt': BUSY,
  '10-api-status.txt': BUSY,
  '11-api-show-calls-count.txt': BUSY,
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
  '60-originate-bad-dial-strings.txt': BUSY,
  '70-injection-newline-in-number.txt': BUSY,
  '71-injection-double-newline-command-smuggling.txt': BUSY,
  '72-injection-brace-in-number.txt': BUSY,
  '74-injection-comma-in-callerid-variable-override.txt': BUSY,
};

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function replay(fixture: string): Promise<string[]> {
  cluster = await startSimCluster({
    nodes: [{ name: 'vm', port: 0 }],
    timeScale: fixture.startsWith('44-') ? 0.05 : 0.001,
    profile: { gateways: { carrier1: SCENARIOS[fixture]! } },
  });
  const port = cluster.nodes[0]!.port;
  const records = readTranscript(fixture);
  const clients = new Map<string, WireClient>();
  const expectedCount = new Map<string, number>();
  const waitForExpected = async () => {
    for (const [conn, count] of expectedCount) {
      const client = clients.get(conn)!;
      await client.waitFor(() => client.frames.length >= count || client.closed);
    }
  };
  for (const record of records) {
    if (record.direction === 'CONNECT') {
      await waitForExpected();
      clients.set(record.connection, await WireClient.open(port));
      expectedCount.set(record.connection, 0);
    } else if (record.direction === 'S->C') {
      expectedCount.set(record.connection, (expectedCount.get(record.connection) ?? 0) + 1);
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
  const diffs: string[] = [];
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
