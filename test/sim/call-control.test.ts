/** uuid_broadcast, uuid_transfer, uuid_bridge and `event xml` on the simulator, over raw sockets. */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeXmlEvent } from '../../src/esl/message.js';
import { xmlFromPlain } from '../../src/sim/event-xml.js';
import {
  type CarrierModel,
  type GroundTruthEntry,
  type SimCluster,
  startSimCluster,
} from '../../src/sim/index.js';
import { header, WireClient } from './wire-client.js';

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

const A = '5f0c1a52-8a0e-4c61-9d2b-0c7f1f0a9a0a';
const B = '5f0c1a52-8a0e-4c61-9d2b-0c7f1f0a9a0b';
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

async function start(subscription: string) {
  cluster = await startSimCluster({
    nodes: [{ name: 'vm', port: 0 }],
    timeScale: 0.001,
    seed: 5,
    profile: { gateways: { carrier1: HOLD } },
  });
  const truth: GroundTruthEntry[] = [];
  cluster.groundTruth.onEntry((entry) => truth.push(entry));
  const node = cluster.nodes[0]!;
  const wire = await WireClient.authed(node.port);
  wires.push(wire);
  await wire.command(subscription);
  return { wire, truth };
}

async function answered(wire: WireClient, truth: GroundTruthEntry[], uuid: string) {
  await wire.command(
    `bgapi originate {origination_uuid=${uuid},originate_timeout=20,sb_worker=w1}sofia/gateway/carrier1/13800000001 &park()`,
  );
  await wire.waitFor(() => truth.some((e) => e.type === 'answer' && e.uuid === uuid));
}

describe('uuid_broadcast', () => {
  it('answers +OK Message Sent and plays the file on the call', async () => {
    const { wire, truth } = await start('event plain PLAYBACK_START PLAYBACK_STOP BACKGROUND_JOB');
    await answered(wire, truth, A);
    const reply = await wire.command(`api uuid_broadcast ${A} /tmp/offer.wav aleg`);
    expect(reply.body).toBe('+OK Message Sent\n');
    await wire.waitFor(() => wire.events('PLAYBACK_STOP').length === 1);
    expect(wire.events('PLAYBACK_START').map((f) => header(f.event!, 'Unique-ID'))).toEqual([A]);
    expect(header(wire.events('PLAYBACK_STOP')[0]!.event!, 'Playback-File-Path')).toBe('/tmp/offer.wav');
  });

  it('gives the usage without a path, and +OK Message Sent for an unknown uuid as FreeSWITCH does', async () => {
    const { wire } = await start('event plain PLAYBACK_START');
    expect((await wire.command(`api uuid_broadcast ${A}`)).body).toBe(
      '-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n',
    );
    expect((await wire.command(`api uuid_broadcast ${UNKNOWN} /tmp/x.wav`)).body).toBe('+OK Message Sent\n');
    expect((await wire.command('api uuid_exists x')).body).toBe('false'); // a later reply: nothing played
    expect(wire.events('PLAYBACK_START')).toEqual([]);
  });
});

describe('uuid_transfer', () => {
  it('answers +OK; the call continues, showing CS_ROUTING then CS_EXECUTE with the new destination', async () => {
    const { wire, truth } = await start('event plain CHANNEL_STATE CHANNEL_HANGUP BACKGROUND_JOB');
    await answered(wire, truth, A);
    const before = wire.events('CHANNEL_STATE').length;
    expect((await wire.command(`api uuid_transfer ${A} 9000 XML sales`)).body).toBe('+OK\n');
    await wire.waitFor(() => wire.events('CHANNEL_STATE').length === before + 2);
    const states = wire
      .events('CHANNEL_STATE')
      .slice(before)
      .map((f) => f.event!);
    expect(states.map((e) => header(e, 'Channel-State'))).toEqual(['CS_ROUTING', 'CS_EXECUTE']);
    expect(states.map((e) => header(e, 'Unique-ID'))).toEqual([A, A]);
    expect(header(states[0]!, 'Caller-Destination-Number')).toBe('9000');
    expect(header(states[0]!, 'Caller-Context')).toBe('sales');
    expect(states[0]!.headers.some(([name]) => name.startsWith('variable_'))).toBe(false);
    expect((await wire.command(`api uuid_exists ${A}`)).body).toBe('true');
    expect(wire.events('CHANNEL_HANGUP')).toEqual([]);
  });

  it('refuses an unknown uuid and a short command with FreeSWITCH texts', async () => {
    const { wire } = await start('event plain CHANNEL_STATE');
    expect((await wire.command(`api uuid_transfer ${UNKNOWN} 9000`)).body).toBe('-ERR No Such Channel!\n');
    expect((await wire.command(`api uuid_transfer ${UNKNOWN}`)).body).toBe(
      '-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n',
    );
  });
});

describe('uuid_bridge', () => {
  it('answers +OK <other> and fires one CHANNEL_BRIDGE about the first leg', async () => {
    const { wire, truth } = await start('event plain CHANNEL_BRIDGE BACKGROUND_JOB');
    await answered(wire, truth, A);
    await answered(wire, truth, B);
    expect((await wire.command(`api uuid_bridge ${A} ${B}`)).body).toBe(`+OK ${B}\n`);
    await wire.waitFor(() => wire.events('CHANNEL_BRIDGE').length === 1);
    const bridge = wire.events('CHANNEL_BRIDGE')[0]!.event!;
    expect(header(bridge, 'Unique-ID')).toBe(A);
    expect(header(bridge, 'Bridge-A-Unique-ID')).toBe(A);
    expect(header(bridge, 'Bridge-B-Unique-ID')).toBe(B);
    expect(header(bridge, 'variable_sb_worker')).toBe('w1');
    // Bridged: a bleg broadcast plays on the other call.
    await wire.command('event plain PLAYBACK_START');
    expect((await wire.command(`api uuid_broadcast ${A} /tmp/b.wav bleg`)).body).toBe('+OK Message Sent\n');
    await wire.waitFor(() => wire.events('PLAYBACK_START').length === 1);
    expect(header(wire.events('PLAYBACK_START')[0]!.event!, 'Unique-ID')).toBe(B);
  });

  it('refuses unknown or identical legs with -ERR Invalid uuid, and a missing leg with the usage', async () => {
    const { wire, truth } = await start('event plain CHANNEL_BRIDGE BACKGROUND_JOB');
    await answered(wire, truth, A);
    expect((await wire.command(`api uuid_bridge ${A} ${UNKNOWN}`)).body).toBe('-ERR Invalid uuid\n');
    expect((await wire.command(`api uuid_bridge ${UNKNOWN} ${A}`)).body).toBe('-ERR Invalid uuid\n');
    expect((await wire.command(`api uuid_bridge ${A} ${A}`)).body).toBe('-ERR Invalid uuid\n');
    expect((await wire.command(`api uuid_bridge ${A}`)).body).toBe('-USAGE: <uuid> <other_uuid>\n');
    expect(wire.events('CHANNEL_BRIDGE')).toEqual([]);
  });
});

describe('event xml', () => {
  it('answers +OK event listener enabled xml and sends text/event-xml that our client decodes', async () => {
    const { wire, truth } = await start('event xml BACKGROUND_JOB CHANNEL_ANSWER');
    const reply = wire.frames.find(
      (f) => header(f, 'Content-Type') === 'command/reply' && f !== wire.frames[1],
    );
    expect(header(reply!, 'Reply-Text')).toBe('+OK event listener enabled xml');
    await answered(wire, truth, A);
    const isXml = (f: (typeof wire.frames)[number]) => header(f, 'Content-Type') === 'text/event-xml';
    await wire.waitFor(() => wire.frames.filter(isXml).length >= 2);
    const xmlFrames = wire.frames.filter(isXml);
    for (const frame of xmlFrames) {
      expect(header(frame, 'Content-Length')).toBe(String(Buffer.byteLength(frame.body)));
      expect(frame.raw.startsWith('Content-Length: ')).toBe(true);
      expect(frame.body.startsWith('<event>\n  <headers>\n    <Event-Name>')).toBe(true);
      expect(frame.body.endsWith('  </headers>\n</event>') || frame.body.includes('  <body>')).toBe(true);
    }
    const events = xmlFrames.map((f) => decodeXmlEvent(f.body));
    const answer = events.find((e) => e.name === 'CHANNEL_ANSWER')!;
    expect(answer.headers.get('Unique-ID')).toBe(A);
    expect(answer.headers.get('variable_sb_worker')).toBe('w1');
    const job = events.find((e) => e.name === 'BACKGROUND_JOB')!;
    expect(job.body).toBe(`+OK ${A}\n`);
  });

  it('keeps values URL-encoded and XML-escapes, with a body after <Content-Length>', () => {
    const plain =
      'Event-Name: CUSTOM\nEvent-Date-Local: 2026-01-02%2003%3A04%3A05\nX: a%26b\nContent-Length: 8\n\n<a & b>\n';
    expect(xmlFromPlain(plain)).toBe(
      '<event>\n  <headers>\n    <Event-Name>CUSTOM</Event-Name>\n' +
        '    <Event-Date-Local>2026-01-02%2003%3A04%3A05</Event-Date-Local>\n    <X>a%26b</X>\n' +
        '  </headers>\n  <Content-Length>8</Content-Length>\n  <body>&lt;a &amp; b&gt;\n</body>\n</event>',
    );
    const decoded = decodeXmlEvent(xmlFromPlain(plain));
    expect(decoded.headers.get('X')).toBe('a&b');
    expect(decoded.body).toBe('<a & b>\n');
  });
});
