/**
 * The injection-proof `originate` builder.
 *
 * How FreeSWITCH reads `originate {a=b,c=d}sofia/gateway/gw/123 &park()` (mod_commands,
 * switch_ivr_originate.c, switch_event_create_brackets, switch_separate_string):
 *   - the argument string is split on spaces, honouring '…' quotes and backslash escapes;
 *   - a leading {…} block holds channel variables, separated by ',' (or by the character after a
 *     leading "^^"), each split once on '='; a repeated name lets the last value win (fixture 74);
 *   - the dial string is then split into legs on ',' (simultaneous), '|' (sequential) and ":_:"
 *     (enterprise), and may carry per-leg [..] or global <..> blocks;
 *   - sofia reads ";"-parameters in the endpoint (e.g. fs_path) and some variables are expanded ($).
 * Escaping for all of these layers at once is fragile, so we refuse instead: every field must come
 * from a charset in which none of those characters exists. The allowed sets are below; anything
 * else throws OriginateInputError and nothing is sent. Spaces in values (caller id names) are
 * therefore not supported — set such values with `uuid_setvar` after the call exists if needed.
 */
import { OriginateInputError } from './errors.js';

export { OriginateInputError } from './errors.js';

export interface OriginateSpec {
  /** Already-rendered endpoint, e.g. from renderDialTemplate. */
  endpoint: string;
  variables: Readonly<Record<string, string>>;
  /** e.g. { name: 'park' } renders "&park()". */
  application: { name: string; arg?: string };
}

const VARIABLE_NAME = /^[a-z][a-z0-9_]{0,63}$/;
/** No , = { } [ ] < > ' " \ $ ^ | space or control characters. */
const VARIABLE_VALUE = /^[A-Za-z0-9_.+@#*/-]{1,256}$/;
const APPLICATION_NAME = /^[a-z_]{1,64}$/;
const APPLICATION_ARG = /^[A-Za-z0-9_.+@#*/:=-]{0,256}$/;
/** Endpoint and template literals: no , | ; = { } [ ] < > quotes, spaces, $ or ^. */
const ENDPOINT = /^[A-Za-z0-9_.+@/:-]{1,256}$/;
const GATEWAY = /^[A-Za-z0-9_.-]{1,64}$/;
const DESTINATION = /^\+?[0-9]{1,32}$/;
const ENTERPRISE_SEPARATOR = ':_:';
const PLACEHOLDER = /\{([^{}]*)\}/g;

export function isValidDestination(number: string): boolean {
  return DESTINATION.test(number);
}

/** Templates such as `sofia/gateway/{gateway}/{number}` or `sofia/gateway/{gateway}/0086{number}`. */
export function validateDialTemplate(template: string): void {
  if (template.length === 0 || template.length > 256) {
    throw new OriginateInputError('dial template must be 1..256 characters');
  }
  let numberCount = 0;
  let gatewayCount = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (match[1] === 'number') numberCount++;
    else if (match[1] === 'gateway') gatewayCount++;
    else
      throw new OriginateInputError(
        `dial template has unknown placeholder {${match[1]}}; use {gateway} and {number}`,
      );
  }
  if (numberCount !== 1) throw new OriginateInputError('dial template must contain {number} exactly once');
  if (gatewayCount > 1) throw new OriginateInputError('dial template may contain {gateway} at most once');
  const literal = template.replace(PLACEHOLDER, '');
  if (literal.length > 0 && !ENDPOINT.test(literal)) {
    throw new OriginateInputError(
      'dial template literal text may only use letters, digits and _ . + @ / : - (no spaces, commas, |, ;, =, quotes or brackets)',
    );
  }
  if (template.includes(ENTERPRISE_SEPARATOR)) {
    throw new OriginateInputError('dial template must not contain ":_:" (it would dial a second leg)');
  }
}

export function renderDialTemplate(template: string, fields: { gateway: string; number: string }): string {
  validateDialTemplate(template);
  if (template.includes('{gateway}') && !GATEWAY.test(fields.gateway)) {
    throw new OriginateInputError('gateway name must match [A-Za-z0-9_.-]{1,64}');
  }
  if (!isValidDestination(fields.number)) {
    throw new OriginateInputError('destination must be 1..32 digits with an optional leading +');
  }
  const endpoint = template.replace(PLACEHOLDER, (_, name: string) =>
    name === 'number' ? fields.number : fields.gateway,
  );
  assertEndpoint(endpoint);
  return endpoint;
}

/** "originate {a=b,c=d}sofia/gateway/gw/123 &park()" — to be sent with `api` or `bgapi`. */
export function buildOriginateCommand(spec: OriginateSpec): string {
  assertEndpoint(spec.endpoint);
  const variables = Object.entries(spec.variables).map(([name, value]) => {
    if (!VARIABLE_NAME.test(name)) {
      throw new OriginateInputError(
        `variable name ${JSON.stringify(name.slice(0, 70))} must match ^[a-z][a-z0-9_]{0,63}$`,
      );
    }
    if (typeof value !== 'string' || !VARIABLE_VALUE.test(value)) {
      throw new OriginateInputError(
        `value of ${name} must be 1..256 of letters, digits and _ . + @ # * / - (FreeSWITCH would parse anything else)`,
      );
    }
    return `${name}=${value}`;
  });
  const { name, arg = '' } = spec.application;
  if (!APPLICATION_NAME.test(name))
    throw new OriginateInputError('application name must match ^[a-z_]{1,64}$');
  if (!APPLICATION_ARG.test(arg)) {
    throw new OriginateInputError(
      'application argument may only use letters, digits and _ . + @ # * / : = -',
    );
  }
  const block = variables.length > 0 ? `{${variables.join(',')}}` : '';
  return `originate ${block}${spec.endpoint} &${name}(${arg})`;
}

function assertEndpoint(endpoint: string): void {
  if (!ENDPOINT.test(endpoint)) {
    throw new OriginateInputError(
      'endpoint may only use letters, digits and _ . + @ / : - (one leg, no parameters)',
    );
  }
  if (endpoint.includes(ENTERPRISE_SEPARATOR)) {
    throw new OriginateInputError('endpoint must not contain ":_:" (it would dial a second leg)');
  }
}
