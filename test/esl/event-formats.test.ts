/**
 * One call, three subscriptions: the simulator sends it as text/event-plain, text/event-json and
 * text/event-xml, and the client decodes the same typed events from each.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EslClient, type EslEventFormat } from '../../src/esl/client.js';
import { renderEventSubscription } from '../../src/esl/commands.js';
import { EslInputError } from '../../src/esl/errors.js';
import { backgroundJobFacts, channelFacts, type EslEvent, hangupFacts } from '../../src/esl/event.js';
import { buildOriginateCommand } from '../../src/esl/originate.js';
import { type SimCluster, startSimCluster } from '../../src/sim/index.js';

const EVENTS = [
  'CHANNEL_CREATE',
  'CHANNEL_PROGRESS',
  'CODEC',
  'CHANNEL_ANSWER',
  'CALL_UPDATE',
  'API',
  'BACKGROUND_JOB',
  'CHANNEL_HANGUP',
  'CHANNEL_HANGUP_COMPLETE',
  'CHANNEL_DESTROY',
];
const UUID = '6a0f2b8e-3c1d-4e5f-8a9b-0c1d2e3f4a5b';

let cluster: SimCluster | undefined;
const clients: EslClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  await cluster?.close();
  cluster = undefined;
});

async function subscriber(format: EslEventFormat): Promise<{ client: EslClient; events: EslEvent[] }> {
  const client = new EslClient({
    host: '127.0.0.1',
    port: cluster!.nodes[0]!.port,
    password: 'ClueCon',
    events: EVENTS,
    format,
    reconnect: false,
  });
  clients.push(client);
  const events: EslEvent[] = [];
  client.onEvent((event) => events.push(event));
  client.start();
  await client.ready();
  return { client, events };
}

function until(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (condition() ? resolve() : setTimeout(poll, 1));
    poll();
  });
}

/** What a consumer reads from an event, typed and raw. */
function reading(event: EslEvent) {
  return {
    name: event.name,
    uniqueId: event.uniqueId,
    jobUuid: event.jobUuid,
    headers: [...event.headers],
    body: event.body,
    channel: channelFacts(event),
    hangup: hangupFacts(event),
    job: backgroundJobFacts(event),
  };
}

describe('event formats', () => {
  it('plain, json and xml subscribers read the same typed events of an answered, hung-up call', async () => {
    cluster = await startSimCluster({
      nodes: [{ name: 'fs1', port: 0 }],
      timeScale: 0.001,
      profile: {
        gateways: {
          carrier1: {
            answer: 1,
            busy: 0,
            noAnswer: 0,
            invalid: 0,
            congestion: 0,
            ringMs: { minMs: 1000, maxMs: 1000 },
            talkMs: { minMs: 3000, maxMs: 3000 },
          },
        },
      },
    });
    const [plain, json, xml] = [await subscriber('plain'), await subscriber('json'), await subscriber('xml')];
    const command = buildOriginateCommand({
      endpoint: 'sofia/gateway/carrier1/13800000001',
      variables: { origination_uuid: UUID, origination_caller_id_number: '1001', originate_timeout: '20' },
      application: { name: 'park' },
    });
    const job = xml!.client.bgapi(command, { jobUuid: `w1-${UUID}` });
    expect(await job.result).toBe(`+OK ${UUID}\n`);
    const ended = (events: EslEvent[]) => events.some((e) => e.name === 'CHANNEL_DESTROY');
    await until(() => ended(plain!.events) && ended(json!.events) && ended(xml!.events));

    const names = plain!.events.map((e) => e.name);
    expect(names).toEqual([
      'CHANNEL_CREATE',
      'CHANNEL_PROGRESS',
      'CODEC',
      'CODEC',
      'CHANNEL_ANSWER',
      'CALL_UPDATE',
      'API',
      'BACKGROUND_JOB',
      'CHANNEL_HANGUP',
      'CHANNEL_HANGUP_COMPLETE',
      'CHANNEL_DESTROY',
    ]);
    expect(xml!.events.map(reading)).toEqual(plain!.events.map(reading));
    expect(json!.events.map(reading)).toEqual(plain!.events.map(reading));
    const complete = xml!.events.find((e) => e.name === 'CHANNEL_HANGUP_COMPLETE')!;
    expect(hangupFacts(complete)).toMatchObject({ uniqueId: UUID, cause: 'NORMAL_CLEARING', answered: true });
    expect(xml!.events.find((e) => e.name === 'CALL_UPDATE')?.header('variable_channel_cid_flipped')).toBe(
      'yes',
    );
  });
});

describe('renderEventSubscription', () => {
  it('renders each format and refuses any other word', () => {
    expect(renderEventSubscription('xml', ['CHANNEL_ANSWER', 'API']).wire).toBe(
      'event xml CHANNEL_ANSWER API\n\n',
    );
    expect(renderEventSubscription('json', ['ALL']).wire).toBe('event json ALL\n\n');
    const fromConfig = 'yaml' as EslEventFormat;
    expect(() => renderEventSubscription(fromConfig, ['ALL'])).toThrow(EslInputError);
  });
});
