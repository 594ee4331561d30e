import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildOriginateCommand,
  isValidDestination,
  OriginateInputError,
  type OriginateSpec,
  renderDialTemplate,
  validateDialTemplate,
} from '../../src/esl/originate.js';

/**
 * An independent reading of an originate command, stricter than FreeSWITCH: it reports anything
 * that FreeSWITCH could read as more than one command, more or other variables, or a second leg.
 */
interface ParsedOriginate {
  variables: [string, string][];
  endpoint: string;
  application: string;
}

function parseOriginate(command: string): ParsedOriginate {
  if (/[\r\n\0]/.test(command)) throw new Error('line break in command');
  if (!command.startsWith('originate ')) throw new Error('not an originate');
  let rest = command.slice('originate '.length);
  const variables: [string, string][] = [];
  if (rest.startsWith('{')) {
    const close = rest.indexOf('}');
    if (close === -1) throw new Error('unterminated variable block');
    const block = rest.slice(1, close);
    if (/[{}'"\\^\s<>[\]$|]/.test(block)) throw new Error('quote, escape, brace or delimiter in block');
    for (const pair of block.split(',')) {
      const parts = pair.split('=');
      if (parts.length !== 2) throw new Error(`variable ${JSON.stringify(pair)} is not name=value`);
      variables.push([parts[0]!, parts[1]!]);
    }
    rest = rest.slice(close + 1);
  }
  const words = rest.split(' ');
  if (words.length !== 2) throw new Error(`expected endpoint and application, got ${words.length} words`);
  const [endpoint, application] = words as [string, string];
  if (/[{}[\]<>,|;='"\\^$]/.test(endpoint) || endpoint.includes(':_:'))
    throw new Error('endpoint has a second leg or block');
  if (!/^&[a-z_]+\([^()\s]*\)$/.test(application)) throw new Error('application is not &name(arg)');
  return { variables, endpoint, application };
}

const hostileUnit = fc.constantFrom(
  '\r',
  '\n',
  '}',
  '{',
  ',',
  "'",
  '"',
  ' ',
  '&',
  '^^',
  '|',
  ':_:',
  '=',
  '$',
  '\\',
  '[',
  ']',
  '<',
  '>',
  ';',
  '(',
  ')',
  '中',
  '😀',
  '\u0000',
  'a',
  'Z',
  '1',
  '+',
  '_',
  '-',
  '.',
  '/',
  ':',
);
const hostile = fc.string({ unit: hostileUnit, maxLength: 24 });
const maybeSafe = fc.oneof(
  hostile,
  fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/),
  fc.stringMatching(/^[A-Za-z0-9_.+-]{1,12}$/),
);

describe('buildOriginateCommand', () => {
  it('renders the documented form', () => {
    const command = buildOriginateCommand({
      endpoint: 'sofia/gateway/carrier1/13800000001',
      variables: {
        origination_uuid: '8e44b583-1ce7-4f0a-90bb-ac1946747451',
        origination_caller_id_number: '1001',
        originate_timeout: '20',
        my_worker_id: 'w1',
      },
      application: { name: 'park' },
    });
    // Byte-identical to the command recorded in fixture 29.
    expect(command).toBe(
      'originate {origination_uuid=8e44b583-1ce7-4f0a-90bb-ac1946747451,origination_caller_id_number=1001,originate_timeout=20,my_worker_id=w1}sofia/gateway/carrier1/13800000001 &park()',
    );
  });

  it('omits the block when there are no variables and renders the app argument', () => {
    expect(
      buildOriginateCommand({
        endpoint: 'loopback/1000',
        variables: {},
        application: { name: 'playback', arg: '/tmp/a.wav' },
      }),
    ).toBe('originate loopback/1000 &playback(/tmp/a.wav)');
  });

  it.each([
    [
      'a caller id that closes the block (fixture 74)',
      { origination_caller_id_number: '1001},my_worker_id=w9' },
    ],
    ['a newline (fixtures 70-71)', { my_worker_id: 'w1\n\napi version' }],
    ['a quote', { origination_caller_id_name: "O'Brien" }],
    ['a space', { origination_caller_id_name: 'John Doe' }],
    ['a delimiter switch', { my_worker_id: '^^:w1' }],
    ['a variable expansion', { my_worker_id: `\${system(id)}` }],
    ['an upper-case name', { My_Worker: 'w1' }],
    ['an empty value', { my_worker_id: '' }],
  ])('refuses %s', (_, variables) => {
    expect(() =>
      buildOriginateCommand({ endpoint: 'sofia/gateway/gw/1', variables, application: { name: 'park' } }),
    ).toThrow(OriginateInputError);
  });

  it.each([
    'sofia/gateway/gw/1,sofia/gateway/gw/2',
    'sofia/gateway/gw/1|sofia/gateway/gw/2',
    'sofia/gateway/gw/1:_:sofia/gateway/gw/2',
    'sofia/gateway/gw/138}00000001',
    'sofia/gateway/gw/1;fs_path=sip:evil',
    '{x=y}sofia/gateway/gw/1',
    'sofia/gateway/gw/1 &bridge(x)',
    '',
  ])('refuses endpoint %j', (endpoint) => {
    expect(() => buildOriginateCommand({ endpoint, variables: {}, application: { name: 'park' } })).toThrow(
      OriginateInputError,
    );
  });

  it('no input yields a second line, an extra or overridden variable, or a second leg (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(maybeSafe, maybeSafe, { maxKeys: 5 }),
        fc.oneof(hostile, fc.constant('sofia/gateway/carrier1/13800000001')),
        fc.oneof(hostile, fc.constant('park')),
        fc.oneof(hostile, fc.constant('')),
        (variables, endpoint, appName, appArg) => {
          const spec: OriginateSpec = { endpoint, variables, application: { name: appName, arg: appArg } };
          let command: string;
          try {
            command = buildOriginateCommand(spec);
          } catch (error) {
            expect(error).toBeInstanceOf(OriginateInputError);
            return;
          }
          const parsed = parseOriginate(command);
          expect(parsed.variables).toEqual(Object.entries(variables));
          expect(new Set(parsed.variables.map(([name]) => name)).size).toBe(parsed.variables.length);
          expect(parsed.endpoint).toBe(endpoint);
          expect(parsed.application).toBe(`&${appName}(${appArg})`);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('accepted variables always survive the round trip (property over the safe charset)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/),
          fc.stringMatching(/^[A-Za-z0-9_.+@#*/-]{1,30}$/),
          {
            maxKeys: 8,
          },
        ),
        (variables) => {
          const command = buildOriginateCommand({
            endpoint: 'sofia/gateway/carrier1/13800000001',
            variables,
            application: { name: 'park' },
          });
          expect(parseOriginate(command).variables).toEqual(Object.entries(variables));
        },
      ),
    );
  });
});

describe('dial templates', () => {
  it('renders gateway and number', () => {
    expect(
      renderDialTemplate('sofia/gateway/{gateway}/{number}', { gateway: 'carrier1', number: '13800000001' }),
    ).toBe('sofia/gateway/carrier1/13800000001');
    expect(
      renderDialTemplate('sofia/gateway/{gateway}/0086{number}', { gateway: 'cn.gw-1', number: '+1380' }),
    ).toBe('sofia/gateway/cn.gw-1/0086+1380');
  });

  it.each([
    ['sofia/gateway/{gateway}/1', 'without {number}'],
    ['sofia/gateway/{gateway}/{number}/{number}', 'with {number} twice'],
    ['sofia/gateway/{gw}/{number}', 'with an unknown placeholder'],
    ['sofia/gateway/{gateway}/{number},sofia/gateway/b/{number}', 'with a comma'],
    ['sofia/gateway/{gateway}/{number};fs_path=x', 'with a sofia parameter'],
    ['sofia/gateway/{gateway} /{number}', 'with a space'],
    ['sofia/{gateway}:_:{number}', 'with an enterprise separator'],
    ['{x=y}sofia/gateway/{gateway}/{number', 'with an unbalanced brace'],
  ])('refuses %s (%s)', (template) => {
    expect(() => validateDialTemplate(template)).toThrow(OriginateInputError);
  });

  it('refuses a gateway that would form a second leg once rendered', () => {
    expect(() => renderDialTemplate('sofia/x:{gateway}:/{number}', { gateway: '_', number: '1' })).toThrow(
      OriginateInputError,
    );
  });

  it('hostile gateway and number never change the structure (property)', () => {
    fc.assert(
      fc.property(hostile, hostile, (gateway, number) => {
        let endpoint: string;
        try {
          endpoint = renderDialTemplate('sofia/gateway/{gateway}/{number}', { gateway, number });
        } catch (error) {
          expect(error).toBeInstanceOf(OriginateInputError);
          return;
        }
        expect(endpoint).toBe(`sofia/gateway/${gateway}/${number}`);
        const parsed = parseOriginate(
          buildOriginateCommand({ endpoint, variables: {}, application: { name: 'park' } }),
        );
        expect(parsed.endpoint).toBe(endpoint);
      }),
      { numRuns: 2000 },
    );
  });

  it('isValidDestination', () => {
    expect(isValidDestination('13800000001')).toBe(true);
    expect(isValidDestination('+8613800000001')).toBe(true);
    expect(isValidDestination('')).toBe(false);
    expect(isValidDestination('+')).toBe(false);
    expect(isValidDestination('138 0000')).toBe(false);
    expect(isValidDestination('138}00000001')).toBe(false);
    expect(isValidDestination('1'.repeat(33))).toBe(false);
  });
});
