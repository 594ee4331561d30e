/** `fsctl shutdown` (fixture 90) and `sendmsg` execute of playback / hangup on the simulator. */
import { afterEach, describe, expect, it } from 'vitest';
import { EslClient } from '../../src/esl/client.js';
import { EslDisconnectedError } from '../../src/esl/errors.js';
import {
  type CarrierModel,
  type GroundTruthEntry,
  type LoadedModule,
  parseSimProfile,
  type SimCluster,
  type SimProfile,
  SimProfileError,
  startSimCluster,
} from '../../src/sim/index.js';
import { readTranscript, serverStream } from '../support/esl-fixtures.js';
import { type Frame, header, parseFrames, WireClient } from './wire-client.js';

const HOLD: CarrierModel = {
  answer: 1,
  busy: 0,
  noAnswer: 0,
  invalid: 0,
  congestion: 0,
  ringMs: { minMs: 1000, maxMs: 1000 },
  talkMs: { minMs: 1e9, maxMs: 1e9 },
};

let cluster: SimCluster | undefined;
const wires: WireClient[] = [];
afterEach(async () => {
  for (const wire of wires.splice(0)) wire.close();
  await cluster?.close();
  cluster = undefined;
});

async function start(profile: Partial<SimProfile> = {}, heartbeatIntervalMs?: number) {
  cluster = await startSimCluster({
    nodes: [{ name: 'vm', port: 0 }],
    timeScale: 0.001,
    seed: 9,
    profile: { gateways: { carrier1: HOLD }, ...profile },
    ...(heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs }),
  });
  const truth: GroundTruthEntry[] = [];
  cluster.groundTruth.onEntry((entry) => truth.push(entry));
  return { node: cluster.nodes[0]!, truth };
}

async function wire(port: number, subscription: string): Promise<WireClient> {
  const client = await WireClient.authed(port);
  wires.push(client);
  await client.command(subscription);
  return client;
}

const UUID = '5f0c1a52-8a0e-4c61-9d2b-0c7f1f0a9a01';
const ORIGINATE = `bgapi originate {origination_uuid=${UUID},origination_caller_id_number=1001,originate_timeout=20,sb_worker=w1}sofia/gateway/carrier1/13800000001 &park()`;

async function answeredCall(caller: WireClient, truth: GroundTruthEntry[]) {
  await caller.command(ORIGINATE);
  await caller.waitFor(() => truth.some((e) => e.type === 'answer' && e.uuid === UUID));
}

/** What an `event plain ALL` listener saw of a shutdown, one line per event, without the call's own. */
function shutdownLines(frames: readonly Frame[]): string[] {
  return frames.flatMap((frame) => {
    if (!frame.event) return [];
    const h = (name: string) => header(frame.event!, name) ?? '';
    switch (h('Event-Name')) {
      case 'MODULE_UNLOAD':
        return [`MODULE_UNLOAD ${h('type')} ${h('name')} ${h('key')} ${h('module')}`];
      case 'UNPUBLISH':
        return [`UNPUBLISH ${h('profile_name')} ${h('port')}`];
      case 'CUSTOM':
        return [`CUSTOM ${h('Event-Subclass')} ${h('profile-name')} ${h('Gateway')}`];
      case 'SHUTDOWN':
        return ['SHUTDOWN'];
      case 'CHANNEL_HANGUP':
      case 'CHANNEL_DESTROY':
        return [h('Event-Name')];
      default:
        return [];
    }
  });
}

describe('fsctl shutdown (fixture 90)', () => {
  it("unloads the recorded build's modules and stops its sofia profiles, in the recorded order", async () => {
    const recorded = shutdownLines(
      parseFrames(serverStream(readTranscript('90-fsctl-shutdown-disconnect-notice.txt'), 'A')).frames,
    );
    // The recorded switch: the call on external's carrier1, example.com beside it, internal idle.
    const { node, truth } = await start({
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
    });
    const all = await wire(node.port, 'event plain ALL');
    const caller = await wire(node.port, 'event plain BACKGROUND_JOB');
    await answeredCall(caller, truth);
    await caller.command('api fsctl shutdown');
    await all.waitFor(() => all.closed);
    expect(recorded.filter((line) => line.startsWith('MODULE_UNLOAD'))).toHaveLength(40);
    expect(shutdownLines(all.frames)).toEqual(recorded);
  });

  it("unloads the modules the profile lists; a call holds back its endpoint's module and those after it", async () => {
    const modules: LoadedModule[] = [
      { key: 'mod_tone_stream', interfaces: [{ type: 'file', name: 'tone_stream' }] },
      {
        key: 'mod_sofia',
        filename: '/opt/fs/mod/mod_sofia.so',
        interfaces: [
          { type: 'api', name: 'sofia', description: 'Sofia Controls', syntax: '<cmd> <args>' },
          { type: 'endpoint', name: 'sofia' },
        ],
      },
      { key: 'mod_logfile', interfaces: [{ type: 'generic', name: 'mod_logfile' }] },
    ];
    const { node, truth } = await start({ modules });
    const all = await wire(node.port, 'event plain ALL');
    const gatewayDeletes = await wire(node.port, 'event plain CUSTOM sofia::gateway_delete');
    const otherCustom = await wire(node.port, 'event plain CUSTOM sofia::register');
    await answeredCall(all, truth);
    await all.command('api fsctl shutdown');
    await all.waitFor(() => all.closed);
    expect(shutdownLines(all.frames)).toEqual([
      'SHUTDOWN',
      'CHANNEL_HANGUP',
      'MODULE_UNLOAD file tone_stream  mod_tone_stream',
      // mod_sofia's endpoint has the call: it, and the modules after it, wait for its destruction.
      'CHANNEL_DESTROY',
      // Interfaces by FreeSWITCH's type order, not the list's.
      'MODULE_UNLOAD endpoint sofia  ',
      'MODULE_UNLOAD api sofia mod_sofia ',
      'MODULE_UNLOAD generic mod_logfile  ',
      // The default profiles: external carries carrier1 and the call, internal is idle.
      'UNPUBLISH internal 5060',
      'CUSTOM sofia::gateway_delete external carrier1',
    ]);
    const api = all.events('MODULE_UNLOAD').find((f) => header(f.event!, 'type') === 'api')!.event!;
    expect(header(api, 'filename')).toBe('/opt/fs/mod/mod_sofia.so');
    await gatewayDeletes.waitFor(() => gatewayDeletes.closed);
    await otherCustom.waitFor(() => otherCustom.closed);
    expect(gatewayDeletes.events().map((f) => header(f.event!, 'Gateway'))).toEqual(['carrier1']);
    expect(otherCustom.events()).toEqual([]);
  });

  it('with no call, every module unloads at once and every idle profile unpublishes', async () => {
    const { node } = await start({
      modules: [{ key: 'mod_sofia', interfaces: [{ type: 'chat', name: 'sip' }] }],
    });
    const all = await wire(node.port, 'event plain ALL');
    await all.command('api fsctl shutdown');
    await all.waitFor(() => all.closed);
    expect(shutdownLines(all.frames)).toEqual([
      'SHUTDOWN',
      'MODULE_UNLOAD chat sip  ',
      'UNPUBLISH internal 5060',
      'CUSTOM sofia::gateway_delete external carrier1',
      'UNPUBLISH external 5080',
    ]);
  });

  it('a profile file may list the modules; a bad one is refused', () => {
    const modules = [
      { key: 'mod_say_en', filename: '/x/mod_say_en.so', interfaces: [{ type: 'say', name: 'en' }] },
    ];
    expect(parseSimProfile({ gateways: { c1: HOLD }, modules }).modules).toEqual(modules);
    expect(() =>
      parseSimProfile({
        gateways: { c1: HOLD },
        modules: [{ key: 'm', interfaces: [{ type: 'bogus', name: 'x' }] }],
      }),
    ).toThrow(SimProfileError);
    expect(() => parseSimProfile({ gateways: { c1: HOLD }, modules: [{ interfaces: [] }] })).toThrow(
      'profile.modules[0].key is required',
    );
    expect(() =>
      parseSimProfile({
        gateways: { c1: HOLD },
        modules: [{ key: 'm', interfaces: [{ type: 'api', name: 'a\nb' }] }],
      }),
    ).toThrow(SimProfileError);
  });

  it('a restart in the middle of a shutdown cancels it: the restarted switch stays up and can shut down again', async () => {
    const { node } = await start({}, 2);
    const caller = await wire(node.port, 'event plain HEARTBEAT');
    caller.send('api fsctl shutdown\n\n');
    await caller.waitFor(() => caller.frames.some((f) => header(f, 'Content-Type') === 'api/response'));
    await node.restart();
    const after = await wire(node.port, 'event plain HEARTBEAT');
    // Heartbeats every 2 ms: ten of them outlast the old shutdown's close delay (1.2 ms here).
    await after.waitFor(() => after.events('HEARTBEAT').length >= 10);
    expect(after.closed).toBe(false);
    expect((await after.command('api show calls count')).body).toBe('\n0 total.\n');
    await after.command('api fsctl shutdown');
    await after.waitFor(() => after.closed);
    expect(after.frames.at(-1)!.body).toBe('The system is being shut down.\n');
  });

  it('+OK, SHUTDOWN, the live call hangs up with SYSTEM_SHUTDOWN, MODULE_UNLOAD, then the notice and EOF on every socket', async () => {
    const { node, truth } = await start();
    const all = await wire(node.port, 'event plain ALL');
    const caller = await wire(node.port, 'event plain CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE BACKGROUND_JOB');
    await answeredCall(caller, truth);
    const reply = await caller.command('api fsctl shutdown');
    expect(reply.body).toBe('+OK\n');
    await all.waitFor(() => all.closed);
    await caller.waitFor(() => caller.closed);

    const names = all.events().map((f) => header(f.event!, 'Event-Name'));
    const shutdownAt = names.indexOf('SHUTDOWN');
    expect(shutdownAt).toBeGreaterThan(-1);
    expect(header(all.events('SHUTDOWN')[0]!.event!, 'Event-Info')).toBe('System Shutting Down');
    expect(names.indexOf('CHANNEL_HANGUP')).toBeGreaterThan(shutdownAt);
    expect(names.lastIndexOf('MODULE_UNLOAD')).toBeGreaterThan(names.indexOf('CHANNEL_HANGUP_COMPLETE'));
    const unload = all.events('MODULE_UNLOAD')[0]!.event!;
    expect([header(unload, 'type'), header(unload, 'name')]).toEqual(['application', 'db']);

    for (const hangup of caller.events('CHANNEL_HANGUP_COMPLETE')) {
      expect(header(hangup.event!, 'Hangup-Cause')).toBe('SYSTEM_SHUTDOWN');
    }
    expect(caller.events('CHANNEL_HANGUP_COMPLETE')).toHaveLength(1);
    expect(truth.some((e) => e.type === 'hangup' && e.uuid === UUID && e.cause === 'SYSTEM_SHUTDOWN')).toBe(
      true,
    );

    const notice =
      'Content-Type: text/disconnect-notice\nContent-Length: 31\n\nThe system is being shut down.\n';
    expect(all.frames.at(-1)!.raw).toBe(notice);
    expect(caller.frames.at(-1)!.raw).toBe(notice);
    expect(node.activeCalls()).toBe(0);
  });

  it('our client reports the notice as the cause, and reconnects once the switch is back', async () => {
    const { node } = await start();
    const client = new EslClient({
      host: '127.0.0.1',
      port: node.port,
      password: 'ClueCon',
      events: ['HEARTBEAT'],
      reconnect: { minDelayMs: 1, maxDelayMs: 10 },
      random: () => 0.5,
    });
    try {
      client.start();
      await client.ready();
      const lost = new Promise<Error | undefined>((resolve) => {
        const off = client.onStatus((status, cause) => {
          if (status === 'reconnecting') {
            off();
            resolve(cause);
          }
        });
      });
      expect(await client.api('fsctl shutdown')).toBe('+OK\n');
      const cause = await lost;
      expect(cause).toBeInstanceOf(EslDisconnectedError);
      expect(cause?.message).toBe('switch disconnected us: The system is being shut down.');
      const back = client.ready();
      await node.restart();
      await back;
      expect(await client.api('show calls count')).toBe('\n0 total.\n');
    } finally {
      await client.close();
    }
  });
});

describe('sendmsg execute', () => {
  it('playback: +OK, then CHANNEL_EXECUTE, PLAYBACK_START, PLAYBACK_STOP, CHANNEL_EXECUTE_COMPLETE, through the worker filter', async () => {
    const { node, truth } = await start();
    const caller = await wire(
      node.port,
      'event plain PLAYBACK_START PLAYBACK_STOP CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE BACKGROUND_JOB',
    );
    await caller.command('filter variable_sb_worker w1');
    await answeredCall(caller, truth);
    const reply = await caller.command(
      `sendmsg ${UUID}\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: /tmp/welcome.wav`,
    );
    expect(header(reply, 'Reply-Text')).toBe('+OK');
    await caller.waitFor(() =>
      caller.events('CHANNEL_EXECUTE_COMPLETE').some((f) => header(f.event!, 'Application') === 'playback'),
    );
    const playback = caller
      .events()
      .filter((f) => header(f.event!, 'Application') === 'playback')
      .map((f) => header(f.event!, 'Event-Name'));
    expect(playback).toEqual([
      'CHANNEL_EXECUTE',
      'PLAYBACK_START',
      'PLAYBACK_STOP',
      'CHANNEL_EXECUTE_COMPLETE',
    ]);
    const playbackStart = caller.events('PLAYBACK_START')[0]!.event!;
    expect(header(playbackStart, 'Unique-ID')).toBe(UUID);
    expect(header(playbackStart, 'Playback-File-Path')).toBe('/tmp/welcome.wav');
    expect(header(playbackStart, 'variable_sb_worker')).toBe('w1');
  });

  it('hangup: the call ends with the given cause; an unknown uuid or application is refused', async () => {
    const { node, truth } = await start();
    // BACKGROUND_JOB wakes the waiter at answer time (it waits on frames).
    const caller = await wire(node.port, 'event plain CHANNEL_HANGUP_COMPLETE BACKGROUND_JOB');
    await answeredCall(caller, truth);
    const unknownApp = await caller.command(
      `sendmsg ${UUID}\ncall-command: execute\nexecute-app-name: bridge`,
    );
    expect(header(unknownApp, 'Reply-Text')).toMatch(/^-ERR/);
    const reply = await caller.command(
      `sendmsg ${UUID}\ncall-command: execute\nexecute-app-name: hangup\nexecute-app-arg: USER_BUSY`,
    );
    expect(header(reply, 'Reply-Text')).toBe('+OK');
    await caller.waitFor(() => caller.events('CHANNEL_HANGUP_COMPLETE').length === 1);
    expect(header(caller.events('CHANNEL_HANGUP_COMPLETE')[0]!.event!, 'Hangup-Cause')).toBe('USER_BUSY');
    const gone = await caller.command(`sendmsg ${UUID}\ncall-command: execute\nexecute-app-name: playback`);
    expect(header(gone, 'Reply-Text')).toBe(`-ERR invalid session id [${UUID}]`);
  });
});
