/**
 * The simulator's fault injection driven against our EslClient: each fault is also a bad-input
 * test of the client. Whatever the switch does, the connection is dropped and reported (status
 * and a typed cause), nothing is invented, nothing in flight is replayed, the reconnect re-applies
 * the worker's filters, and the process carries on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EslClient, type EslClientOptions, type EslClientStatus } from '../../src/esl/client.js';
import { EslDisconnectedError, EslError, EslProtocolError, EslTimeoutError } from '../../src/esl/errors.js';
import type { EslEvent } from '../../src/esl/event.js';
import { buildOriginateCommand } from '../../src/esl/originate.js';
import {
  type CarrierModel,
  type GroundTruthEntry,
  type SimCluster,
  startSimCluster,
} from '../../src/sim/index.js';

const EVENTS = ['CHANNEL_CREATE', 'CHANNEL_ANSWER', 'CHANNEL_HANGUP_COMPLETE', 'BACKGROUND_JOB', 'HEARTBEAT'];
const HOLD = { minMs: 1e9, maxMs: 1e9 };
function carrier(outcome: Partial<CarrierModel>): CarrierModel {
  return {
    answer: 0,
    busy: 0,
    noAnswer: 0,
    invalid: 0,
    congestion: 0,
    ringMs: { minMs: 1000, maxMs: 1000 },
    talkMs: HOLD,
    ...outcome,
  };
}

let cluster: SimCluster | undefined;
const clients: EslClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  await cluster?.close();
  cluster = undefined;
});

async function startSwitch(heartbeatIntervalMs = 20_000) {
  cluster = await startSimCluster({
    nodes: [{ name: 'fs1', port: 0 }],
    timeScale: 0.001,
    seed: 7,
    heartbeatIntervalMs,
    profile: {
      gateways: {
        answers: carrier({ answer: 1 }),
        busy: carrier({ busy: 1 }),
        // Rings for ~17 real minutes: an `api originate` to it blocks until the test ends it.
        ringsForever: carrier({ answer: 1, ringMs: { minMs: 1e9, maxMs: 1e9 } }),
      },
    },
  });
  const truth: GroundTruthEntry[] = [];
  cluster.groundTruth.onEntry((entry) => truth.push(entry));
  return { node: cluster.nodes[0]!, truth };
}

/** A worker's connection: its events, its three filters, fast reconnect. */
async function worker(id: string, options: Partial<EslClientOptions> = {}) {
  const client = new EslClient({
    host: '127.0.0.1',
    port: cluster!.nodes[0]!.port,
    password: 'ClueCon',
    events: EVENTS,
    filters: [
      ['variable_sb_worker', id],
      ['Job-UUID', `/^${id}-/`],
      ['Event-Name', 'HEARTBEAT'],
    ],
    reconnect: { minDelayMs: 1, maxDelayMs: 20 },
    random: () => 0.5,
    ...options,
  });
  clients.push(client);
  const events: EslEvent[] = [];
  client.onEvent((event) => events.push(event));
  const statuses: [EslClientStatus, Error | undefined][] = [];
  client.onStatus((status, cause) => statuses.push([status, cause]));
  client.start();
  await client.ready();
  return { client, events, statuses };
}

/** Resolves with the cause of the next transition to `status`. */
function reaches(client: EslClient, status: EslClientStatus): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const off = client.onStatus((s, cause) => {
      if (s === status) {
        off();
        resolve(cause);
      }
    });
  });
}

function until(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (condition() ? resolve() : setTimeout(poll, 1));
    poll();
  });
}

let n = 0;
function originate(workerId: string, gateway: string): { uuid: string; command: string } {
  n++;
  const uuid = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const command = buildOriginateCommand({
    endpoint: `sofia/gateway/${gateway}/13800000001`,
    variables: { origination_uuid: uuid, originate_timeout: '20', sb_worker: workerId },
    application: { name: 'park' },
  });
  return { uuid, command };
}

const originatesOf = (truth: GroundTruthEntry[], uuid: string) =>
  truth.filter((e) => e.type === 'originate' && e.uuid === uuid);

/** Checks the re-applied filters: w2's call is not delivered to w1, w1's own call and job are. */
async function expectOnlyOwnEvents(w1: { client: EslClient; events: EslEvent[] }) {
  const w2 = await worker('w2');
  const other = originate('w2', 'busy');
  expect(await w2.client.bgapi(other.command, { jobUuid: `w2-${other.uuid}` }).result).toBe(
    '-ERR USER_BUSY\n',
  );
  const own = originate('w1', 'busy');
  const job = w1.client.bgapi(own.command, { jobUuid: `w1-${own.uuid}` });
  expect(await job.result).toBe('-ERR USER_BUSY\n');
  // Events of one switch reach a socket in order: w2's, fired first, would be here by now.
  await until(() => w1.events.some((e) => e.name === 'CHANNEL_HANGUP_COMPLETE' && e.uniqueId === own.uuid));
  expect(w1.events.filter((e) => e.uniqueId === other.uuid || e.jobUuid?.startsWith('w2-'))).toEqual([]);
}

describe('dropConnections()', () => {
  it('rejects the in-flight originate, reconnects, re-applies filters and never resends it', async () => {
    const { node, truth } = await startSwitch();
    const w1 = await worker('w1');
    const blocked = originate('w1', 'ringsForever');
    const inFlight = w1.client.api(blocked.command);
    await until(() => originatesOf(truth, blocked.uuid).length === 1);
    const lost = reaches(w1.client, 'reconnecting');
    const back = reaches(w1.client, 'ready');
    node.dropConnections();
    await expect(inFlight).rejects.toBeInstanceOf(EslDisconnectedError);
    expect(await lost).toBeInstanceOf(EslDisconnectedError);
    await back;
    await expectOnlyOwnEvents(w1);
    expect(originatesOf(truth, blocked.uuid)).toHaveLength(1);
  });
});

describe('stallConnections(ms): a switch that stays connected and says nothing', () => {
  it('missing HEARTBEATs drop the connection with EslTimeoutError, then it reconnects', async () => {
    const { node } = await startSwitch(20);
    const w1 = await worker('w1', { liveness: { heartbeatIntervalMs: 20, missedHeartbeatFactor: 10 } });
    await until(() => w1.events.some((e) => e.name === 'HEARTBEAT'));
    const lost = reaches(w1.client, 'reconnecting');
    const back = reaches(w1.client, 'ready');
    node.stallConnections(60_000);
    const cause = await lost;
    expect(cause).toBeInstanceOf(EslTimeoutError);
    expect(cause?.message).toMatch(/no HEARTBEAT within 200 ms/);
    await back;
    await expectOnlyOwnEvents(w1);
  });

  it('without HEARTBEAT, an unanswered api status probe drops the connection', async () => {
    const { node } = await startSwitch();
    const w1 = await worker('w1', {
      events: ['BACKGROUND_JOB'],
      liveness: { probeIntervalMs: 20, probeTimeoutMs: 100 },
    });
    const lost = reaches(w1.client, 'reconnecting');
    const back = reaches(w1.client, 'ready');
    node.stallConnections(60_000);
    const cause = await lost;
    expect(cause).toBeInstanceOf(EslTimeoutError);
    expect(cause?.message).toMatch(/liveness probe unanswered/);
    await back;
    expect(await w1.client.api('uuid_exists nothing')).toBe('false');
  });

  it('filters that shut HEARTBEAT out turn the watch off: silence then proves nothing', async () => {
    await startSwitch(5);
    const w1 = await worker('w1', {
      filters: [['variable_sb_worker', 'w1']],
      liveness: { heartbeatIntervalMs: 1, missedHeartbeatFactor: 1 },
    });
    // Several switch round trips, each longer than the 1 ms deadline the watch would have had.
    for (let i = 0; i < 5; i++) {
      const own = originate('w1', 'busy');
      await w1.client.api(own.command);
    }
    expect(w1.statuses.map(([s]) => s)).toEqual(['connecting', 'authenticating', 'ready']);
  });

  it('a stall shorter than the deadline is waited out: nothing is dropped or lost', async () => {
    const { node } = await startSwitch();
    const w1 = await worker('w1', { liveness: { probeIntervalMs: 20, probeTimeoutMs: 5_000 } });
    node.stallConnections(100);
    const own = originate('w1', 'busy');
    expect(await w1.client.bgapi(own.command, { jobUuid: `w1-${own.uuid}` }).result).toBe('-ERR USER_BUSY\n');
    expect(w1.statuses.map(([s]) => s)).toEqual(['connecting', 'authenticating', 'ready']);
  });
});

describe('bad bytes from the switch: dropped and reported, nothing invented', () => {
  it('sendGarbage: random bytes are a desync (EslProtocolError), memory stays at the 64 KiB header cap', async () => {
    const { node } = await startSwitch();
    const w1 = await worker('w1');
    const lost = reaches(w1.client, 'reconnecting');
    const back = reaches(w1.client, 'ready');
    // 4 MiB with no valid frame in it: buffering it all would be the blow-up the cap prevents.
    node.sendGarbage(4 * 1024 * 1024);
    expect(await lost).toBeInstanceOf(EslProtocolError);
    await back;
    expect(w1.events).toEqual([]);
    await expectOnlyOwnEvents(w1);
  });

  const poison: [string, string, RegExp][] = [
    [
      'an absurd Content-Length',
      'Content-Length: 99999999999\nContent-Type: text/event-plain\n\n',
      /Content-Length/,
    ],
    [
      'an unknown Content-Type',
      'Content-Type: text/surprise\nContent-Length: 2\n\nhi',
      /unknown Content-Type/,
    ],
    ['a frame without Content-Type', 'Content-Length: 2\n\nhi', /without Content-Type/],
    [
      'a bad plain event',
      'Content-Length: 11\nContent-Type: text/event-plain\n\nno colon\n\n\n',
      /malformed/,
    ],
    [
      'an XML event whose element is never closed',
      'Content-Length: 58\nContent-Type: text/event-xml\n\n<event><headers><Event-Name>HEARTBEAT</headers></event>\n\n\n',
      /malformed text\/event-xml: <Event-Name> is not closed/,
    ],
  ];
  for (const [label, bytes, message] of poison) {
    it(`${label}: EslProtocolError, reconnects`, async () => {
      const { node } = await startSwitch();
      const w1 = await worker('w1');
      const lost = reaches(w1.client, 'reconnecting');
      const back = reaches(w1.client, 'ready');
      node.injectBytes(bytes);
      const cause = await lost;
      expect(cause).toBeInstanceOf(EslProtocolError);
      expect(cause?.message).toMatch(message);
      await back;
      expect(w1.events).toEqual([]);
    });
  }

  it('a truncated frame then a close mid-frame: EslProtocolError, no partial event delivered', async () => {
    const { node } = await startSwitch();
    const w1 = await worker('w1');
    const lost = reaches(w1.client, 'reconnecting');
    const back = reaches(w1.client, 'ready');
    node.injectBytes(
      'Content-Length: 500\nContent-Type: text/event-plain\n\nEvent-Name: HEARTBEAT\nSession-Co',
    );
    node.dropConnections();
    // A destroyed socket may reset before the client has read the partial frame: then the cause is
    // the reset (EslDisconnectedError), otherwise the cut frame (EslProtocolError). Both are fatal.
    const cause = await lost;
    expect(cause).toBeInstanceOf(EslError);
    expect((cause as EslError).fatal).toBe(true);
    await back;
    expect(w1.events).toEqual([]);
  });
});

describe('loseEvents(p)', () => {
  it('lost events are not invented: the job result stays pending, later events flow again', async () => {
    const { node, truth } = await startSwitch();
    const w1 = await worker('w1');
    node.loseEvents(1);
    const call = originate('w1', 'answers');
    const job = w1.client.bgapi(call.command, { jobUuid: `w1-${call.uuid}` });
    let settled = false;
    job.result.then(
      () => (settled = true),
      () => (settled = true),
    );
    await job.accepted;
    await until(() => truth.some((e) => e.type === 'answer' && e.uuid === call.uuid));
    // A reply after the answer: every event of the answer was fired (and lost) before it.
    expect(await w1.client.api(`uuid_exists ${call.uuid}`)).toBe('true');
    expect(w1.events).toEqual([]);
    expect(settled).toBe(false);
    node.loseEvents(0);
    expect(await w1.client.api(`uuid_kill ${call.uuid}`)).toBe('+OK\n');
    await until(() => w1.events.some((e) => e.name === 'CHANNEL_HANGUP_COMPLETE'));
    expect(w1.events.map((e) => e.name)).toEqual(['CHANNEL_HANGUP_COMPLETE']);
    expect(w1.statuses.map(([s]) => s)).toEqual(['connecting', 'authenticating', 'ready']);
  });
});

describe('stop() and restart(): the switch crashes and comes back', () => {
  it('in-flight commands reject, nothing is queued while down, the client comes back and replays nothing', async () => {
    const { node, truth } = await startSwitch();
    const w1 = await worker('w1');
    const blocked = originate('w1', 'ringsForever');
    const inFlight = w1.client.api(blocked.command);
    await until(() => originatesOf(truth, blocked.uuid).length === 1);
    const lost = reaches(w1.client, 'reconnecting');
    await node.stop();
    await expect(inFlight).rejects.toBeInstanceOf(EslDisconnectedError);
    expect(await lost).toBeInstanceOf(EslDisconnectedError);
    await expect(w1.client.api('status')).rejects.toBeInstanceOf(EslDisconnectedError);
    const back = reaches(w1.client, 'ready');
    await node.restart();
    await back;
    expect(await w1.client.api('show calls count')).toBe('\n0 total.\n');
    await expectOnlyOwnEvents(w1);
    expect(originatesOf(truth, blocked.uuid)).toHaveLength(1);
    expect(
      truth.some((e) => e.type === 'hangup' && e.uuid === blocked.uuid && e.cause === 'NODE_CRASH'),
    ).toBe(true);
  });
});
