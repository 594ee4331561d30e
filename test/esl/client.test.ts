import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { EslClient, type EslClientOptions, type EslClientStatus } from '../../src/esl/client.js';
import {
  EslAuthError,
  EslClosedError,
  EslCommandError,
  EslDisconnectedError,
  EslInputError,
  EslProtocolError,
  EslQueueFullError,
  EslTimeoutError,
} from '../../src/esl/errors.js';
import type { EslEvent } from '../../src/esl/event.js';
import { FakeSwitch, type FakeSwitchOptions, fixtureScript } from './fake-switch.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(switchOptions: FakeSwitchOptions, clientOptions: Partial<EslClientOptions> = {}) {
  const fake = await FakeSwitch.start(switchOptions);
  const client = new EslClient({
    host: '127.0.0.1',
    port: fake.port,
    password: 'ClueCon',
    events: ['BACKGROUND_JOB', 'CHANNEL_HANGUP_COMPLETE'],
    reconnect: { minDelayMs: 1, maxDelayMs: 5 },
    random: () => 0,
    ...clientOptions,
  });
  const statuses: [EslClientStatus, Error | undefined][] = [];
  client.onStatus((status, cause) => statuses.push([status, cause]));
  const events: EslEvent[] = [];
  client.onEvent((event) => events.push(event));
  cleanups.push(async () => {
    await client.close();
    await fake.close();
  });
  return { fake, client, statuses, events };
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
    const poll = () => (condition() ? resolve() : setImmediate(poll));
    poll();
  });
}

describe('EslClient against a replaying FreeSWITCH', () => {
  it('authenticates, subscribes and becomes ready (fixture 01)', async () => {
    const { fake, client, statuses } = await setup({ script: fixtureScript('01-auth-ok.txt') });
    client.start();
    await client.ready();
    expect(fake.commands).toEqual([
      'auth ClueCon\n\n',
      'event plain BACKGROUND_JOB CHANNEL_HANGUP_COMPLETE\n\n',
    ]);
    expect(statuses.map(([s]) => s)).toEqual(['connecting', 'authenticating', 'ready']);
    await client.close();
    expect(client.status).toBe('closed');
    expect(fake.commands.at(-1)).toBe('exit\n\n');
  });

  it('reports a wrong password as EslAuthError and retries with backoff (fixture 02)', async () => {
    const logged: string[] = [];
    const logger = {
      debug: (o: object, m: string) => logged.push(JSON.stringify(o) + m),
      info: (o: object, m: string) => logged.push(JSON.stringify(o) + m),
      warn: (o: object, m: string) => logged.push(JSON.stringify(o) + m),
      error: (o: object, m: string) => logged.push(JSON.stringify(o) + m),
    };
    const { fake, client } = await setup({ password: 'ClueCon' }, { password: 'WrongPassword', logger });
    const cause = reaches(client, 'reconnecting');
    client.start();
    expect(await cause).toBeInstanceOf(EslAuthError);
    await fake.until(() => fake.peers.length >= 2);
    expect(fake.commands.filter((c) => c.startsWith('auth')).length).toBeGreaterThanOrEqual(1);
    expect(logged.some((line) => line.includes('authentication failed'))).toBe(true);
    expect(logged.some((line) => line.includes('WrongPassword'))).toBe(false);
  });

  it('api returns the api/response body (fixture 10)', async () => {
    const { client } = await setup({ script: fixtureScript('10-api-status.txt') });
    client.start();
    await client.ready();
    const body = await client.api('status');
    expect(body).toMatch(/^UP 0 years/);
    expect(body).toContain('1000 session(s) max');
  });

  it('bgapi sends our Job-UUID and resolves accepted then result from BACKGROUND_JOB (fixture 29)', async () => {
    const script = fixtureScript('29-originate-busy-custom-job-uuid-plain.txt');
    const { client, events, fake } = await setup({ script });
    client.start();
    await client.ready();
    const bgapiGroup = script.groups.find((g) => g.command.startsWith('bgapi'))!;
    const command = bgapiGroup.command.split('\n')[0]!.slice('bgapi '.length);
    const job = client.bgapi(command, { jobUuid: '65233951-48eb-4fef-aa8f-95ebe38af49b' });
    await job.accepted;
    expect(await job.result).toBe('-ERR USER_BUSY\n');
    expect(fake.commands).toContain(bgapiGroup.command);
    // The job event still reaches listeners, with every channel event of the call.
    await until(() => events.some((e) => e.name === 'CHANNEL_HANGUP_COMPLETE'));
    expect(events.some((e) => e.name === 'BACKGROUND_JOB')).toBe(true);
  });

  it('filters go out after the subscription; two jobs of two workers resolve by Job-UUID (fixture 41)', async () => {
    const script = fixtureScript('41-filter-worker-id-plus-background-job-plain.txt');
    const { client, fake } = await setup(
      { script },
      {
        events: script.groups[1]!.command.slice('event plain '.length).trim().split(' '),
        filters: [
          ['variable_my_worker_id', 'w1'],
          ['Event-Name', 'BACKGROUND_JOB'],
        ],
      },
    );
    client.start();
    await client.ready();
    expect(fake.commands.slice(2)).toEqual([
      'filter variable_my_worker_id w1\n\n',
      'filter Event-Name BACKGROUND_JOB\n\n',
    ]);
    const originates = script.groups
      .filter((g) => g.command.startsWith('bgapi'))
      .map((g) => g.command.slice(6, -2));
    const jobs = originates.map((command) => client.bgapi(command, { jobUuid: randomUUID() }));
    const results = await Promise.all(jobs.map((j) => j.result));
    expect(results).toEqual(['-ERR USER_BUSY\n', '-ERR USER_BUSY\n']);
  });

  it('re-authenticates, re-subscribes and re-applies filters after a reconnect, with no duplicate listeners', async () => {
    const { client, fake, events } = await setup({}, { filters: [['variable_my_worker_id', 'w1']] });
    client.start();
    await client.ready();
    await client.filter('Job-UUID', '/^w1-/');
    const lost = reaches(client, 'reconnecting');
    const back = reaches(client, 'ready');
    fake.peers[0]!.socket.destroy();
    expect(await lost).toBeInstanceOf(EslDisconnectedError);
    await back;
    expect(fake.peers[1]!.commands).toEqual([
      'auth ClueCon\n\n',
      'event plain BACKGROUND_JOB CHANNEL_HANGUP_COMPLETE\n\n',
      'filter variable_my_worker_id w1\n\n',
      'filter Job-UUID /^w1-/\n\n',
    ]);
    const heartbeat = 'Event-Name: HEARTBEAT\nSession-Count: 3\n\n';
    fake.peers[1]!.send(
      `Content-Length: ${heartbeat.length}\nContent-Type: text/event-plain\n\n${heartbeat}`,
    );
    await until(() => events.length > 0);
    expect(await client.api('status')).toBe('-ERR unscripted\n'); // a round trip: any duplicate has arrived
    expect(events.map((e) => e.name)).toEqual(['HEARTBEAT']);
  });

  it('filterDelete removes the filter from the reconnect set', async () => {
    const { client, fake } = await setup({}, { filters: [['variable_my_worker_id', 'w1']] });
    client.start();
    await client.ready();
    await client.filterDelete('variable_my_worker_id', 'w1');
    expect(fake.commands.at(-1)).toBe('filter delete variable_my_worker_id w1\n\n');
    expect(client.filters).toEqual([]);
  });

  it('never replays an in-flight command after a reconnect', async () => {
    const { client, fake } = await setup({
      onCommand: (command, peer) => {
        if (!command.startsWith('api originate')) return false;
        peer.socket.destroy(); // the reply is lost: did the phone ring? only the switch knows
        return true;
      },
    });
    client.start();
    await client.ready();
    const back = reaches(client, 'ready');
    const originate = client.api('originate sofia/gateway/carrier1/13800000001 &park()');
    await expect(originate).rejects.toBeInstanceOf(EslDisconnectedError);
    await back;
    await client.api('status');
    expect(fake.commands.filter((c) => c.startsWith('api originate'))).toHaveLength(1);
    expect(fake.peers[1]!.commands.some((c) => c.includes('originate'))).toBe(false);
  });

  it('a timed-out command abandons its slot: the late reply never reaches the next command', async () => {
    const api = (body: string) => `Content-Type: api/response\nContent-Length: ${body.length}\n\n${body}`;
    const { client } = await setup({
      onCommand: (command, peer) => {
        if (command === 'api slow\n\n') return true; // answer later
        if (command === 'api fast\n\n') {
          peer.send(api('late reply of slow'));
          peer.send(api('fast'));
          return true;
        }
        return false;
      },
    });
    client.start();
    await client.ready();
    await expect(client.api('slow', { timeoutMs: 20 })).rejects.toBeInstanceOf(EslTimeoutError);
    expect(await client.api('fast')).toBe('fast');
    expect(client.status).toBe('ready');
  });

  it('close rejects in-flight commands, sends exit, and ready() then rejects', async () => {
    const { client, fake } = await setup({ onCommand: (command) => command.startsWith('api hang') });
    client.start();
    await client.ready();
    const hanging = client.api('hang');
    const hangingFails = expect(hanging).rejects.toBeInstanceOf(EslClosedError);
    await fake.until(() => fake.commands.includes('api hang\n\n'));
    await client.close();
    await hangingFails;
    await expect(client.ready()).rejects.toBeInstanceOf(EslClosedError);
    await expect(client.api('status')).rejects.toBeInstanceOf(EslClosedError);
    expect(fake.commands.at(-1)).toBe('exit\n\n');
  });

  it('bgapi: -ERR reply rejects accepted and result with EslCommandError', async () => {
    const { client } = await setup({
      onCommand: (command, peer) => {
        if (!command.startsWith('bgapi')) return false;
        peer.send('Content-Type: command/reply\nReply-Text: -ERR nope\n\n');
        return true;
      },
    });
    client.start();
    await client.ready();
    const job = client.bgapi('status', { jobUuid: 'w1-abc' });
    await expect(job.accepted).rejects.toBeInstanceOf(EslCommandError);
    await expect(job.result).rejects.toBeInstanceOf(EslCommandError);
  });

  it('rejects CR/LF and bad ids before anything is sent', async () => {
    const { client, fake } = await setup({});
    client.start();
    await client.ready();
    const before = fake.commands.length;
    await expect(client.api('status\n\napi version')).rejects.toBeInstanceOf(EslInputError);
    await expect(client.api('status\r')).rejects.toBeInstanceOf(EslInputError);
    await expect(client.bgapi('status', { jobUuid: 'bad id' }).accepted).rejects.toBeInstanceOf(
      EslInputError,
    );
    await expect(client.bgapi('status', { jobUuid: 'x\nApi: y' }).result).rejects.toBeInstanceOf(
      EslInputError,
    );
    await expect(client.filter('Event-Name', 'A\nB')).rejects.toBeInstanceOf(EslInputError);
    await expect(client.command('api status')).rejects.toBeInstanceOf(EslInputError);
    await expect(
      client.sendmsg('abc', {
        callCommand: 'execute',
        appName: 'playback',
        appArg: 'x\ncall-command: hangup',
      }),
    ).rejects.toBeInstanceOf(EslInputError);
    expect(fake.commands.length).toBe(before);
  });

  it('sendmsg and session commands render their wire form', async () => {
    const { client, fake } = await setup({
      onCommand: (command, peer) => {
        if (!command.startsWith('sendmsg') && !command.startsWith('linger')) return false;
        peer.send('Content-Type: command/reply\nReply-Text: +OK\n\n');
        return true;
      },
    });
    client.start();
    await client.ready();
    await client.sendmsg('8e44b583-1ce7-4f0a-90bb-ac1946747451', {
      callCommand: 'hangup',
      hangupCause: 'USER_BUSY',
    });
    await client.sendmsg('8e44b583-1ce7-4f0a-90bb-ac1946747451', {
      callCommand: 'execute',
      appName: 'playback',
      appArg: '/tmp/hello.wav',
    });
    expect((await client.command('linger')).ok).toBe(true);
    expect(fake.commands.slice(-3)).toEqual([
      'sendmsg 8e44b583-1ce7-4f0a-90bb-ac1946747451\ncall-command: hangup\nhangup-cause: USER_BUSY\n\n',
      'sendmsg 8e44b583-1ce7-4f0a-90bb-ac1946747451\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: /tmp/hello.wav\n\n',
      'linger\n\n',
    ]);
  });

  it('refuses commands beyond maxPendingCommands', async () => {
    const { client } = await setup(
      { onCommand: (command) => command.startsWith('api hang') },
      { maxPendingCommands: 1 },
    );
    client.start();
    await client.ready();
    const firstFails = expect(client.api('hang')).rejects.toBeInstanceOf(EslClosedError);
    await expect(client.api('hang two')).rejects.toBeInstanceOf(EslQueueFullError);
    await client.close();
    await firstFails;
  });

  it('rejects commands while not connected, without queueing them', async () => {
    const { client } = await setup({});
    await expect(client.api('status')).rejects.toBeInstanceOf(EslDisconnectedError);
  });

  it('with reconnect false, a lost connection ends in closed', async () => {
    const { client, fake } = await setup({}, { reconnect: false });
    client.start();
    await client.ready();
    const closed = reaches(client, 'closed');
    fake.peers[0]!.socket.destroy();
    expect(await closed).toBeInstanceOf(EslDisconnectedError);
    await expect(client.ready()).rejects.toBeInstanceOf(EslClosedError);
  });
});

describe('EslClient against a misbehaving switch', () => {
  const poison: [string, string, boolean][] = [
    ['garbage', 'this is not ESL\n\n', false],
    ['an absurd Content-Length', 'Content-Type: api/response\nContent-Length: 99999999999\n\n', false],
    ['an unknown Content-Type', 'Content-Type: text/surprise\nContent-Length: 2\n\nhi', false],
    ['a reply nobody asked for', 'Content-Type: command/reply\nReply-Text: +OK\n\n', false],
    [
      'a close in the middle of a frame',
      'Content-Length: 500\nContent-Type: text/event-plain\n\nEvent-Name: HEART',
      true,
    ],
  ];
  for (const [label, bytes, thenClose] of poison) {
    it(`${label}: drops the connection with EslProtocolError, invents no event, reconnects`, async () => {
      const { client, fake, events } = await setup({});
      client.start();
      await client.ready();
      const lost = reaches(client, 'reconnecting');
      const back = reaches(client, 'ready');
      fake.peers[0]!.send(bytes);
      if (thenClose) fake.peers[0]!.socket.end();
      expect(await lost).toBeInstanceOf(EslProtocolError);
      await back;
      expect(events).toEqual([]);
    });
  }

  it('a header block over the cap drops the connection instead of buffering without end', async () => {
    const { client, fake } = await setup({});
    client.start();
    await client.ready();
    const lost = reaches(client, 'reconnecting');
    fake.peers[0]!.send(`Content-Type: api/response\nX: ${'a'.repeat(70 * 1024)}`);
    expect(await lost).toBeInstanceOf(EslProtocolError);
  });

  it('a switch that never sends auth/request times out the connection attempt', async () => {
    const { client } = await setup({ greet: false }, { connectTimeoutMs: 50 });
    const lost = reaches(client, 'reconnecting');
    client.start();
    expect(await lost).toBeInstanceOf(EslTimeoutError);
  });
});
