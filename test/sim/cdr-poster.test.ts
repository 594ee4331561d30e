import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCallRecordPost } from '../../src/domain/call-record.js';
import { CdrPoster, type ReportedChannel } from '../../src/sim/cdr-poster.js';
import {
  type CarrierModel,
  type CdrPosterOptions,
  type GroundTruthEntry,
  type SimCluster,
  startSimCluster,
} from '../../src/sim/index.js';
import { WireClient } from './wire-client.js';

/** The simulator's mod_json_cdr, received by a real HTTP server. */
interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

class Receiver {
  readonly requests: Received[] = [];
  /** Status for each request in turn; the last one repeats. */
  statuses: number[] = [200];
  /** Requests are held (unanswered) while this is set. */
  hold = false;
  private held: Array<() => void> = [];
  private server: Server | undefined;
  private waiters: Array<() => void> = [];

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/internal/v1/cdr`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = this.statuses[Math.min(this.requests.length, this.statuses.length - 1)]!;
      this.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      for (const wake of this.waiters.splice(0)) wake();
      const answer = () => res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
      if (this.hold) this.held.push(answer);
      else answer();
    });
  }

  release(): void {
    this.hold = false;
    for (const answer of this.held.splice(0)) answer();
  }

  async waitFor(count: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.requests.length} of ${count} posts arrived`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200).unref();
      });
    }
  }

  async close(): Promise<void> {
    this.release();
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }
}

const BUSY: CarrierModel = {
  answer: 0,
  busy: 1,
  noAnswer: 0,
  invalid: 0,
  congestion: 0,
  ringMs: { minMs: 100, maxMs: 100 },
  talkMs: { minMs: 100, maxMs: 100 },
};
const ANSWER: CarrierModel = { ...BUSY, answer: 1, busy: 0, talkMs: { minMs: 2000, maxMs: 2000 } };

const UUID_BUSY = '0191f0a4-9a6b-7c3e-8d2f-4b5a6c7d8e01';
const UUID_ANSWER = '0191f0a4-9a6b-7c3e-8d2f-4b5a6c7d8e02';

let cluster: SimCluster | undefined;
let receiver: Receiver | undefined;
const wires: WireClient[] = [];
afterEach(async () => {
  for (const wire of wires.splice(0)) wire.close();
  await cluster?.close();
  await receiver?.close();
  cluster = undefined;
  receiver = undefined;
});

async function simWithCdr(callRecords: Omit<CdrPosterOptions, 'url'>) {
  receiver = new Receiver();
  const url = await receiver.start();
  cluster = await startSimCluster({
    nodes: [{ name: 'sim-cdr', port: 0 }],
    timeScale: 0.01,
    seed: 5,
    profile: { gateways: { busygw: BUSY, answergw: ANSWER } },
    callRecords: { url, retryDelayMs: 20, ...callRecords },
  });
  const truth: GroundTruthEntry[] = [];
  cluster.groundTruth.onEntry((e) => truth.push(e));
  const wire = await WireClient.authed(cluster.nodes[0]!.port);
  wires.push(wire);
  return { receiver, wire, truth };
}

function originate(wire: WireClient, uuid: string, gateway: string): Promise<unknown> {
  return wire.command(
    `bgapi originate {origination_uuid=${uuid},origination_caller_id_number=1001,originate_timeout=20,sb_worker=main,sb_attempt=${uuid},sb_task=t1}sofia/gateway/${gateway}/8613800000001 &park()`,
  );
}

function documentOf(request: Received): Record<string, unknown> {
  const type = request.headers['content-type'];
  const field = request.body.startsWith('cdr=') ? request.body.slice(4) : request.body;
  const text =
    type === 'application/json'
      ? request.body
      : type === 'application/x-www-form-base64-encoded'
        ? Buffer.from(field, 'base64').toString('utf8')
        : decodeURIComponent(field);
  return JSON.parse(text) as Record<string, unknown>;
}

describe('the simulator posts mod_json_cdr call records', () => {
  it('posts one record per ended call, shaped and sent as mod_json_cdr does', async () => {
    const { receiver, wire, truth } = await simWithCdr({ credentials: 'freeswitch:sbs_secret' });
    await originate(wire, UUID_BUSY, 'busygw');
    await originate(wire, UUID_ANSWER, 'answergw');
    await receiver.waitFor(2);

    const byUuid = new Map(
      receiver.requests.map((r) => [new URL(r.url, 'http://x').searchParams.get('uuid'), r]),
    );
    const busy = byUuid.get(UUID_BUSY)!;
    expect(busy.method).toBe('POST');
    expect(busy.url).toBe(`/internal/v1/cdr?uuid=${UUID_BUSY}`);
    expect(busy.headers['content-type']).toBe('application/json');
    expect(busy.headers['user-agent']).toBe('freeswitch-json/1.0');
    expect(busy.headers.authorization).toBe(
      `Basic ${Buffer.from('freeswitch:sbs_secret').toString('base64')}`,
    );

    const doc = documentOf(busy) as {
      'core-uuid': string;
      switchname: string;
      channel_data: Record<string, string>;
      variables: Record<string, string>;
      callflow: Array<{ caller_profile: Record<string, string>; times: Record<string, string> }>;
    };
    expect(doc.switchname).toBe('sim-cdr');
    expect(doc['core-uuid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(doc.channel_data).toMatchObject({ state: 'CS_REPORTING', direction: 'outbound' });
    expect(doc.variables).toMatchObject({
      uuid: UUID_BUSY,
      sb_attempt: UUID_BUSY,
      sb_worker: 'main',
      hangup_cause: 'USER_BUSY',
      sip_term_status: '486',
      answer_epoch: '0',
    });
    // encode-values on (FreeSWITCH's default): values are %XX-encoded inside the JSON.
    const values = Object.values(doc.variables);
    expect(values.some((v) => /%[0-9A-F]{2}/.test(v))).toBe(true);
    expect(values.filter((v) => /[ <>"\r\n]/.test(v))).toEqual([]);
    expect(doc.callflow[0]!.caller_profile.destination_number).toBe('8613800000001');
    expect(Number(doc.callflow[0]!.times.hangup_time)).toBeGreaterThan(0);

    // What the platform reads out of them agrees with what happened on the switch.
    for (const request of [busy, byUuid.get(UUID_ANSWER)!]) {
      const uuid = new URL(request.url, 'http://x').searchParams.get('uuid')!;
      const record = parseCallRecordPost({
        contentType: request.headers['content-type'],
        body: request.body,
        queryUuid: uuid,
      });
      const hangup = truth.find((e) => e.type === 'hangup' && e.uuid === uuid) as Extract<
        GroundTruthEntry,
        { type: 'hangup' }
      >;
      expect(record).toMatchObject({
        callUuid: uuid,
        attemptId: uuid,
        switchName: 'sim-cdr',
        hangupCause: hangup.cause,
      });
      expect(record.answeredAtMs !== null).toBe(hangup.answered);
      expect(Math.abs(record.endedAtMs - hangup.atMs)).toBeLessThan(50);
    }
    await eventuallyStats(() => cluster!.callRecordStats()?.pending === 0);
    expect(cluster!.callRecordStats()).toEqual({ posted: 2, failed: 0, dropped: 0, pending: 0 });
  });

  it.each(['form', 'base64'] as const)('sends encode=%s bodies that the platform reads', async (encode) => {
    const { receiver, wire } = await simWithCdr({ encode, encodeValues: encode !== 'form' });
    await originate(wire, UUID_BUSY, 'busygw');
    await receiver.waitFor(1);
    const [request] = receiver.requests;
    expect(request!.body.startsWith('cdr=')).toBe(true);
    expect(request!.headers['content-type']).toBe(
      encode === 'form' ? 'application/x-www-form-urlencoded' : 'application/x-www-form-base64-encoded',
    );
    const record = parseCallRecordPost({
      contentType: request!.headers['content-type'],
      body: request!.body,
    });
    expect(record).toMatchObject({ callUuid: UUID_BUSY, hangupCause: 'USER_BUSY', sipCode: 486 });
  });

  it('retries a refused post until a 2xx, then stops', async () => {
    const { receiver, wire } = await simWithCdr({ retries: 5 });
    receiver.statuses = [503, 500, 200];
    await originate(wire, UUID_BUSY, 'busygw');
    await receiver.waitFor(3);
    await eventuallyStats(() => cluster!.callRecordStats()?.posted === 1);
    expect(receiver.requests.map((r) => r.url)).toEqual(Array(3).fill(`/internal/v1/cdr?uuid=${UUID_BUSY}`));
    expect(receiver.requests.map((r) => r.body)).toEqual(Array(3).fill(receiver.requests[0]!.body));
  });

  it('gives up after its retries, as FreeSWITCH does before writing err-log-dir', async () => {
    const { receiver, wire } = await simWithCdr({ retries: 2 });
    receiver.statuses = [500];
    await originate(wire, UUID_BUSY, 'busygw');
    await eventuallyStats(() => cluster!.callRecordStats()?.failed === 1);
    expect(receiver.requests).toHaveLength(3);
  });
});

describe('CdrPoster', () => {
  const channel = (uuid: string): ReportedChannel => ({
    uniqueId: uuid,
    json: () =>
      JSON.stringify({
        'Core-UUID': '182f5938-5c46-4190-bbc6-c6dd4321157f',
        'FreeSWITCH-Switchname': 'fs',
        'Unique-ID': uuid,
        variable_uuid: uuid,
        variable_hangup_cause: 'NORMAL_CLEARING',
      }),
  });

  it('keeps a bounded queue: past maxQueue a record is dropped and counted, the rest go out', async () => {
    receiver = new Receiver();
    const url = await receiver.start();
    receiver.hold = true;
    const poster = new CdrPoster({ url, maxQueue: 3, concurrency: 1 });
    for (let i = 0; i < 5; i++) poster.channelReported(channel(`0191f0a4-9a6b-7c3e-8d2f-00000000000${i}`));
    expect(poster.stats()).toEqual({ posted: 0, failed: 0, dropped: 2, pending: 3 });
    // Nothing is sent on the reporting turn itself.
    expect(receiver.requests).toHaveLength(0);
    await receiver.waitFor(1);
    receiver.release();
    await poster.idle();
    expect(poster.stats()).toEqual({ posted: 3, failed: 0, dropped: 2, pending: 0 });
    await poster.close();
  });

  it('close() gives pending posts a grace period, then abandons them without hanging', async () => {
    receiver = new Receiver();
    const url = await receiver.start();
    receiver.hold = true;
    const poster = new CdrPoster({ url });
    poster.channelReported(channel('0191f0a4-9a6b-7c3e-8d2f-000000000009'));
    await receiver.waitFor(1);
    await poster.close(50);
    await eventuallyStats(() => poster.stats().pending === 0);
    expect(poster.stats()).toMatchObject({ posted: 0, failed: 1 });
    poster.channelReported(channel('0191f0a4-9a6b-7c3e-8d2f-000000000010'));
    expect(poster.stats().pending).toBe(0);
  });

  it('refuses a URL that is not http(s) or that carries credentials', () => {
    expect(() => new CdrPoster({ url: 'file:///etc/passwd' })).toThrow(/http/);
    expect(() => new CdrPoster({ url: 'http://fs:secret@127.0.0.1/cdr' })).toThrow(/credentials/);
  });
});

async function eventuallyStats(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
