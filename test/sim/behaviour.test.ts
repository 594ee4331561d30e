/** The simulator's own behaviour: carriers, limits, filters, heartbeat, ground truth, crashes. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CarrierModel,
  parseSimProfile,
  readGroundTruthFile,
  type SimCluster,
  SimProfileError,
  startSimCluster,
} from '../../src/sim/index.js';
import { readTranscript } from '../support/esl-fixtures.js';
import { header, parseFrames, WireClient } from './wire-client.js';

const HOLD = { minMs: 1e9, maxMs: 1e9 };
function model(outcome: Partial<CarrierModel>): CarrierModel {
  return {
    answer: 0,
    busy: 0,
    noAnswer: 0,
    invalid: 0,
    congestion: 0,
    ringMs: { minMs: 1000, maxMs: 1000 },
    talkMs: { minMs: 2000, maxMs: 2000 },
    ...outcome,
  };
}
const GATEWAYS = {
  answers: model({ answer: 1 }),
  holds: model({ answer: 1, talkMs: HOLD }),
  busy: model({ busy: 1 }),
  invalid: model({ invalid: 1 }),
  congested: model({ congestion: 1 }),
  silent: model({ noAnswer: 1 }),
  dead: model({ answer: 1, outages: [{ fromMs: 0, toMs: 1e15 }] }),
};

let cluster: SimCluster | undefined;
const clients: WireClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await cluster?.close();
  cluster = undefined;
});

async function start(options: Partial<Parameters<typeof startSimCluster>[0]> = {}) {
  cluster = await startSimCluster({
    nodes: [{ name: 'fs1', port: 0 }],
    timeScale: 0.001,
    seed: 42,
    profile: { gateways: GATEWAYS },
    ...options,
  });
  return cluster;
}

async function client(port = cluster!.nodes[0]!.port): Promise<WireClient> {
  const c = await WireClient.authed(port);
  clients.push(c);
  return c;
}

let n = 0;
function uuid(prefix = '00000000'): string {
  n++;
  return `${prefix}-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

function originate(gateway: string, id: string, extra = ''): string {
  return `bgapi originate {origination_uuid=${id},origination_caller_id_number=1001,originate_timeout=20${extra}}sofia/gateway/${gateway}/13800000001 &park()`;
}

describe('carrier outcomes', () => {
  const cases: [string, string, string][] = [
    ['answers', 'NORMAL_CLEARING', '+OK'],
    ['busy', 'USER_BUSY', '-ERR USER_BUSY'],
    ['invalid', 'UNALLOCATED_NUMBER', '-ERR UNALLOCATED_NUMBER'],
    ['congested', 'NORMAL_TEMPORARY_FAILURE', '-ERR NORMAL_TEMPORARY_FAILURE'],
    ['silent', 'NO_ANSWER', '-ERR NO_ANSWER'],
    ['dead', 'RECOVERY_ON_TIMER_EXPIRE', '-ERR RECOVERY_ON_TIMER_EXPIRE'],
  ];
  for (const [gateway, cause, job] of cases) {
    it(`${gateway} → ${cause}, origination_uuid honoured, ground truth written`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sim-'));
      const recordPath = join(dir, 'truth.jsonl');
      await start({ recordPath });
      const c = await client();
      await c.command('event plain ALL');
      const id = uuid();
      await c.command(originate(gateway, id, ',my_worker_id=w1'));
      await c.waitFor(() => c.events('CHANNEL_DESTROY').length === 1);
      const complete = c.events('CHANNEL_HANGUP_COMPLETE')[0]!.event!;
      expect(complete.headers.filter(([name]) => name === 'Hangup-Cause').map(([, v]) => v)).toEqual([
        cause,
        cause,
      ]);
      expect(header(complete, 'Unique-ID')).toBe(id);
      expect(header(complete, 'Channel-Call-UUID')).toBe(id);
      expect(header(complete, 'variable_my_worker_id')).toBe('w1');
      await c.waitFor(() => c.events('BACKGROUND_JOB').length === 1);
      expect(c.events('BACKGROUND_JOB')[0]!.event!.body.startsWith(job)).toBe(true);
      const truth = cluster!.groundTruth.entries();
      expect(truth[0]).toMatchObject({ type: 'originate', uuid: id, gateway, accepted: true });
      expect(truth.at(-1)).toMatchObject({
        type: 'hangup',
        uuid: id,
        cause,
        answered: gateway === 'answers',
      });
      await cluster!.close();
      cluster = undefined;
      expect(readGroundTruthFile(recordPath)).toEqual(truth);
    });
  }

  it('unknown gateway: -ERR INVALID_GATEWAY, a CHANNEL_DESTROY and no CHANNEL_CREATE', async () => {
    await start();
    const c = await client();
    await c.command('event plain ALL');
    await c.command(originate('nosuchgw', uuid()));
    await c.waitFor(() => c.events('BACKGROUND_JOB').length === 1);
    expect(c.events('BACKGROUND_JOB')[0]!.event!.body).toBe('-ERR INVALID_GATEWAY\n');
    expect(c.events('CHANNEL_DESTROY')).toHaveLength(1);
    expect(c.events('CHANNEL_CREATE')).toHaveLength(0);
    expect(cluster!.groundTruth.entries()[0]).toMatchObject({ accepted: false, cause: 'INVALID_GATEWAY' });
  });

  it('api originate blocks the socket until the call is answered', async () => {
    await start();
    const c = await client();
    const id = uuid();
    const reply = await c.command(originate('holds', id).replace(/^bgapi/, 'api'));
    expect(reply.body).toBe(`+OK ${id}\n`);
    expect((await c.command(`api uuid_exists ${id}`)).body).toBe('true');
    expect((await c.command(`api uuid_kill ${id}`)).body).toBe('+OK\n');
  });
});

describe('switch limits refuse like FreeSWITCH: -ERR DESTINATION_OUT_OF_ORDER, no channel', () => {
  it('max-sessions', async () => {
    await start({ nodes: [{ name: 'fs1', port: 0, maxSessions: 2 }] });
    const c = await client();
    await c.command('event plain CHANNEL_CREATE BACKGROUND_JOB');
    for (let i = 0; i < 3; i++) await c.command(originate('holds', uuid()));
    await c.waitFor(() => c.events('BACKGROUND_JOB').length >= 1 && c.events('CHANNEL_CREATE').length === 2);
    expect(c.events('BACKGROUND_JOB')[0]!.event!.body).toBe('-ERR DESTINATION_OUT_OF_ORDER\n');
    expect(cluster!.nodes[0]!.activeCalls()).toBe(2);
    expect((await c.command('api fsctl max_sessions 3')).body).toBe('+OK max sessions: 3\n');
    await c.command(originate('holds', uuid()));
    await c.waitFor(() => c.events('CHANNEL_CREATE').length === 3);
  });

  it('sessions-per-second: a budget of N admits N-1 per second (switch_core_session.c)', async () => {
    await start({ nodes: [{ name: 'fs1', port: 0, sessionsPerSecond: 5 }] });
    const c = await client();
    // Start the burst early in a wall-clock second so that it fits in one.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000)));
    for (let i = 0; i < 10; i++) c.send(`${originate('holds', uuid())}\n\n`);
    await c.waitFor(() => cluster!.groundTruth.entries().filter((e) => e.type === 'originate').length === 10);
    const originates = cluster!.groundTruth.entries().filter((e) => e.type === 'originate');
    expect(originates.filter((e) => e.type === 'originate' && e.accepted)).toHaveLength(4);
    expect(originates.filter((e) => e.type === 'originate' && !e.accepted)[0]).toMatchObject({
      cause: 'DESTINATION_OUT_OF_ORDER',
    });
  });
});

describe('filters deliver exactly what ESL-NOTES says', () => {
  it('worker tag + Job-UUID prefix + HEARTBEAT: each worker gets its own calls and jobs only', async () => {
    await start({ heartbeatIntervalMs: 50 });
    const workers = await Promise.all(['w1', 'w2'].map(async (w) => ({ w, c: await client() })));
    for (const { w, c } of workers) {
      await c.command('event plain ALL');
      expect((await c.command(`filter variable_my_worker_id ${w}`)).headers[1]![1]).toBe(
        `+OK filter added. [variable_my_worker_id]=[${w}]`,
      );
      await c.command(`filter Job-UUID /^${w}-/`);
      await c.command('filter Event-Name HEARTBEAT');
    }
    const calls = new Map<string, string>();
    for (const { w, c } of workers) {
      const id = uuid();
      calls.set(w, id);
      await c.command(`${originate('busy', id, `,my_worker_id=${w}`)}\nJob-UUID: ${w}-${id}`);
    }
    for (const { w, c } of workers) {
      await c.waitFor(
        () =>
          c.events('CHANNEL_DESTROY').length === 1 &&
          c.events('BACKGROUND_JOB').length === 1 &&
          c.events('HEARTBEAT').length > 0,
      );
      for (const frame of c.events()) {
        const name = header(frame.event!, 'Event-Name');
        if (name === 'HEARTBEAT') continue;
        if (name === 'BACKGROUND_JOB') expect(header(frame.event!, 'Job-UUID')).toBe(`${w}-${calls.get(w)}`);
        else expect(header(frame.event!, 'Unique-ID')).toBe(calls.get(w));
      }
      // STATE/CALLSTATE/OUTGOING carry no variables, so the tag filter drops them (fixture 40).
      expect(c.events('CHANNEL_STATE')).toHaveLength(0);
      expect(c.events('RE_SCHEDULE')).toHaveLength(0);
    }
  });
});

describe('API events', () => {
  it('every api fires one after its reply; bgapi fires it right before BACKGROUND_JOB', async () => {
    await start();
    const c = await client();
    await c.command('event plain API BACKGROUND_JOB');
    await c.command('api version');
    await c.command('api uuid_exists  00000000-0000-4000-8000-000000000000 ');
    await c.waitFor(() => c.events('API').length === 2);
    const kinds = c.frames
      .slice(-4)
      .map((f) => (f.event ? header(f.event, 'Event-Name') : header(f, 'Content-Type')));
    expect(kinds).toEqual(['api/response', 'API', 'api/response', 'API']);
    const [version, exists] = c.events('API').map((f) => f.event!.headers.slice(13));
    expect(version).toEqual([['API-Command', 'version']]);
    expect(exists).toEqual([
      ['API-Command', 'uuid_exists'],
      ['API-Command-Argument', '00000000-0000-4000-8000-000000000000'],
    ]);
    await c.command(originate('busy', uuid()));
    await c.waitFor(() => c.events('BACKGROUND_JOB').length === 1);
    const events = c.events().map((f) => header(f.event!, 'Event-Name'));
    expect(events.slice(-2)).toEqual(['API', 'BACKGROUND_JOB']);
    // Created when the originate started: numbered before the call's events, sent after them.
    const sequence = (f: (typeof c.frames)[number]) => Number(header(f.event!, 'Event-Sequence'));
    const [, , originateApi] = c.events('API');
    expect(header(originateApi!.event!, 'API-Command')).toBe('originate');
    expect(sequence(originateApi!)).toBeLessThan(sequence(c.events('BACKGROUND_JOB')[0]!) - 1);
  });
});

describe('heartbeat', () => {
  it('HEARTBEAT has the recorded headers and real counts, then RE_SCHEDULE', async () => {
    await start({ heartbeatIntervalMs: 30 });
    const c = await client();
    await c.command('event plain HEARTBEAT RE_SCHEDULE');
    await c.command(originate('holds', uuid()));
    await c.waitFor(() => c.events('HEARTBEAT').length >= 2 && cluster!.nodes[0]!.activeCalls() === 1);
    await c.waitFor(() => c.events('HEARTBEAT').some((f) => header(f.event!, 'Session-Count') === '1'));
    const recorded = parseFrames(
      Buffer.concat(
        readTranscript('50-heartbeat-re-schedule-plain.txt')
          .filter((r) => r.direction === 'S->C')
          .map((r) => r.bytes),
      ),
    ).frames.find((f) => f.event && header(f.event, 'Event-Name') === 'HEARTBEAT')!;
    const names = (f: typeof recorded) => f.event!.headers.map(([name]) => name);
    expect(names(c.events('HEARTBEAT')[0]!)).toEqual(names(recorded));
    const sequence = c.events().map((f) => header(f.event!, 'Event-Name'));
    expect(sequence.slice(0, 2)).toEqual(['HEARTBEAT', 'RE_SCHEDULE']);
    expect(header(c.events('HEARTBEAT')[0]!.event!, 'Max-Sessions')).toBe('1000');
  });
});

describe('nodes', () => {
  it('many nodes, each its own port and hostname; stop() crashes, restart() listens again', async () => {
    await start({
      nodes: [
        { name: 'fs1', port: 0 },
        { name: 'fs2', port: 0 },
      ],
    });
    const [fs1, fs2] = cluster!.nodes;
    expect(fs1!.port).not.toBe(fs2!.port);
    const c2 = await client(fs2!.port);
    await c2.command('event plain CHANNEL_CREATE');
    const id = uuid();
    await c2.command(originate('holds', id));
    await c2.waitFor(() => c2.events('CHANNEL_CREATE').length === 1);
    expect(header(c2.events('CHANNEL_CREATE')[0]!.event!, 'FreeSWITCH-Hostname')).toBe('fs2');
    expect(fs2!.activeCalls()).toBe(1);
    await fs2!.stop();
    await c2.waitFor(() => c2.closed);
    expect(fs2!.activeCalls()).toBe(0);
    expect(cluster!.groundTruth.entries().at(-1)).toMatchObject({
      type: 'hangup',
      uuid: id,
      cause: 'NODE_CRASH',
    });
    await fs2!.restart();
    const again = await client(fs2!.port);
    expect((await again.command(`api uuid_exists ${id}`)).body).toBe('false');
  });

  it('a listener that does not read loses events instead of growing a queue', async () => {
    await start({ nodes: [{ name: 'fs1', port: 0, maxSessions: 100_000, sessionsPerSecond: 100_000 }] });
    const reader = await client();
    await reader.command('event plain ALL');
    reader.socket.pause();
    const driver = await client();
    for (let i = 0; i < 3000; i++) driver.send(`${originate('busy', uuid())}\n\n`);
    await driver.waitFor(
      () => cluster!.groundTruth.entries().filter((e) => e.type === 'hangup').length === 3000,
      20_000,
    );
    // 3000 busy calls are ~30 MB of events: more than a listener may owe.
    const before = reader.frames.length;
    reader.socket.resume();
    await reader.waitFor(() => reader.closed || reader.frames.length > before);
    expect(reader.frames.filter((f) => f.event).length).toBeLessThan(3000 * 14);
  });
});

describe('profile validation', () => {
  it('names the bad field', () => {
    expect(() => parseSimProfile({ gateways: { c1: { ...model({ answer: 2 }) } } })).toThrow(SimProfileError);
    expect(() => parseSimProfile({ gateways: { c1: { ...model({ answer: 2 }) } } })).toThrow(
      /gateways\.c1\.answer/,
    );
    expect(() =>
      parseSimProfile({ gateways: { c1: { ...model({}), ringMs: { minMs: 5, maxMs: 1 } } } }),
    ).toThrow(/c1\.ringMs/);
    expect(parseSimProfile({ gateways: { c1: model({ busy: 0.5 }) } }).gateways.c1!.busy).toBe(0.5);
  });
});
