import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { EslClient } from '../../src/esl/client.js';
import { EslTimeoutError } from '../../src/esl/errors.js';
import { buildOriginateCommand, renderDialTemplate } from '../../src/esl/originate.js';
import { maskDigitRun, maskNumbers, redactCommand } from '../../src/esl/wire-safety.js';
import { FakeSwitch } from './fake-switch.js';

const ATTEMPT = '0190a1b2-c3d4-7e5f-8a6b-1c2d3e4f5a6b';
const TASK = '0190a1b2-c3d4-7e5f-8a6b-000000000001';

function originateLine(number: string, template = 'sofia/gateway/{gateway}/{number}'): string {
  return buildOriginateCommand({
    endpoint: renderDialTemplate(template, { gateway: 'carrier1', number }),
    variables: {
      origination_uuid: ATTEMPT,
      originate_timeout: '30',
      origination_caller_id_number: '+862150001234',
      sb_worker: 'w1',
      sb_task: TASK,
    },
    application: { name: 'park' },
  });
}

describe('redactCommand', () => {
  it('hides the password of auth and userauth', () => {
    expect(redactCommand('auth ClueCon\n\n')).toBe('auth [redacted]');
    expect(redactCommand('userauth ops@example ClueCon\n\n')).toBe('auth [redacted]');
  });

  it('masks the originate destination, keeping a short prefix and the last two digits', () => {
    expect(redactCommand(`bgapi ${originateLine('+8613812345601')}\nJob-UUID: w1-${ATTEMPT}\n\n`)).toBe(
      `bgapi originate {origination_uuid=${ATTEMPT},originate_timeout=30,` +
        `origination_caller_id_number=+8621******34,sb_worker=w1,sb_task=${TASK}}` +
        'sofia/gateway/carrier1/+8613*******01 &park()\nJob-UUID: w1-' +
        `${ATTEMPT}`,
    );
    expect(redactCommand(`api ${originateLine('13812345601')}\n\n`)).toContain(
      'sofia/gateway/carrier1/1381*****01 &park()',
    );
  });

  it('masks a number that a dial template prefixes or a positional caller id carries', () => {
    const line = redactCommand(`api ${originateLine('13812345601', 'sofia/gateway/{gateway}/0086{number}')}`);
    expect(line).toContain('sofia/gateway/carrier1/0086*********01');
    expect(
      redactCommand('api originate sofia/gateway/gw/+8613812345601 9999 XML default Bob 13900001111 30'),
    ).toBe('api originate sofia/gateway/gw/+8613*******01 **** XML default Bob 1390*****11 30');
    expect(redactCommand(`api uuid_transfer ${ATTEMPT} 13812345601 XML default`)).toBe(
      `api uuid_transfer ${ATTEMPT} 1381*****01 XML default`,
    );
  });

  it('leaves commands without numbers as they are', () => {
    expect(redactCommand('event plain CHANNEL_ANSWER BACKGROUND_JOB\n\n')).toBe(
      'event plain CHANNEL_ANSWER BACKGROUND_JOB',
    );
    expect(redactCommand(`api uuid_kill ${ATTEMPT} NORMAL_CLEARING`)).toBe(
      `api uuid_kill ${ATTEMPT} NORMAL_CLEARING`,
    );
  });

  it('never shows a destination in clear, whatever its form (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\+?[0-9]{7,32}$/), (number) => {
        const digits = number.replace('+', '');
        const masked = maskDigitRun(number);
        expect(redactCommand(`bgapi ${originateLine(number)}`)).toContain(`/carrier1/${masked} &park()`);
        // Only the head and the last two digits remain: no 7-digit window of the number survives.
        for (let i = 0; i + 7 <= digits.length; i++) expect(masked).not.toContain(digits.slice(i, i + 7));
      }),
    );
  });

  it('masks short runs whole and follows the platform mask shape', () => {
    expect(maskDigitRun('123456')).toBe('******');
    expect(maskDigitRun('+8613812345601')).toBe('+8613*******01');
    expect(maskNumbers('call 12 from 5060')).toBe('call 12 from ****');
  });
});

describe('EslClient logs', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('show no number in the send trace nor in the reply-timeout warning', async () => {
    // A switch that never answers bgapi: the command times out and the warning is written.
    const fake = await FakeSwitch.start({ onCommand: (command) => command.startsWith('bgapi') });
    const logged: string[] = [];
    const record = (o: object, m: string) => logged.push(`${m} ${JSON.stringify(o)}`);
    const client = new EslClient({
      host: '127.0.0.1',
      port: fake.port,
      password: 'ClueCon',
      events: ['BACKGROUND_JOB'],
      reconnect: { minDelayMs: 1, maxDelayMs: 5 },
      random: () => 0,
      logger: { debug: record, info: record, warn: record, error: record },
    });
    cleanups.push(async () => {
      await client.close();
      await fake.close();
    });
    client.start();
    await client.ready();
    const job = client.bgapi(originateLine('+8613812345601'), { jobUuid: `w1-${ATTEMPT}`, timeoutMs: 20 });
    job.result.catch(() => undefined);
    await expect(job.accepted).rejects.toBeInstanceOf(EslTimeoutError);
    await expect(job.accepted).rejects.not.toThrow(/13812345601/);
    expect(fake.commands.some((c) => c.includes('+8613812345601'))).toBe(true); // the wire is intact
    const send = logged.filter((line) => line.startsWith('esl send'));
    const timeout = logged.filter((line) => line.startsWith('esl reply timed out'));
    expect(send.some((line) => line.includes('+8613*******01'))).toBe(true);
    expect(timeout).toHaveLength(1);
    expect(logged.filter((line) => line.includes('13812345601'))).toEqual([]);
    expect(logged.filter((line) => line.includes('ClueCon'))).toEqual([]);
  });
});
