/**
 * The sofia SIP profiles a simulated switch reports (`sofia status`, `sofia status gateway X`):
 * which profiles it runs, their aliases, and which gateway sits on which profile. By default one
 * `external` profile carries every carrier gateway, next to an `internal` profile aliased
 * `127.0.0.1` — the vanilla config's layout. A profile file may describe another switch, such as
 * the recorded one (fixture 12), whose external profile also had the vanilla `example.com` gateway.
 */
import { SimProfileError } from './profile-error.js';

export interface SofiaGateway {
  name: string;
  /** The URI `sofia status` shows for it (the gateway's register-to). */
  registerTo: string;
}

export interface SofiaProfile {
  name: string;
  /** Its contact, `sip:mod_sofia@<ip>:<port>`. */
  url: string;
  /** Other names the profile answers to (`127.0.0.1 alias internal ALIASED`). */
  aliases: string[];
  /** In the order sofia lists them. Each must be a gateway of the carrier profile. */
  gateways: SofiaGateway[];
}

const NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const URI = /^sips?:[^\s]{1,200}$/;

export function defaultRegisterTo(gateway: string): string {
  return `sip:${gateway}@127.0.0.1:5090`;
}

export function defaultSofiaProfiles(gateways: readonly string[]): SofiaProfile[] {
  return [
    {
      name: 'external',
      url: 'sip:mod_sofia@127.0.0.1:5080',
      aliases: [],
      gateways: gateways.map((name) => ({ name, registerTo: defaultRegisterTo(name) })),
    },
    { name: 'internal', url: 'sip:mod_sofia@127.0.0.1:5060', aliases: ['127.0.0.1'], gateways: [] },
  ];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown, pattern: RegExp, where: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new SimProfileError(`${where} must be a string matching ${pattern}`);
  }
  return value;
}

function sofiaGateway(value: unknown, where: string): SofiaGateway {
  if (!isRecord(value)) throw new SimProfileError(`${where} must be an object {name, registerTo?}`);
  const name = text(value.name, NAME, `${where}.name`);
  const registerTo =
    value.registerTo === undefined
      ? defaultRegisterTo(name)
      : text(value.registerTo, URI, `${where}.registerTo`);
  return { name, registerTo };
}

function sofiaProfile(value: unknown, where: string): SofiaProfile {
  if (!isRecord(value))
    throw new SimProfileError(`${where} must be an object {name, url, aliases?, gateways?}`);
  const list = (field: string): unknown[] => {
    const items = value[field] ?? [];
    if (!Array.isArray(items)) throw new SimProfileError(`${where}.${field} must be an array`);
    return items;
  };
  return {
    name: text(value.name, NAME, `${where}.name`),
    url: text(value.url, URI, `${where}.url`),
    aliases: list('aliases').map((alias, i) => text(alias, NAME, `${where}.aliases[${i}]`)),
    gateways: list('gateways').map((gateway, i) => sofiaGateway(gateway, `${where}.gateways[${i}]`)),
  };
}

/**
 * The `sofia` section of a profile file. Every carrier gateway must sit on exactly one profile and
 * every listed gateway must have a carrier model: a gateway the switch reports but cannot dial, or
 * dials but does not report, would be a switch that does not exist.
 */
export function parseSofiaProfiles(json: unknown, carrierGateways: readonly string[]): SofiaProfile[] {
  if (!Array.isArray(json) || json.length === 0) {
    throw new SimProfileError('profile.sofia must be a non-empty array of profiles');
  }
  const profiles = json.map((value, i) => sofiaProfile(value, `profile.sofia[${i}]`));
  const names = new Set<string>();
  for (const name of profiles.flatMap((p) => [p.name, ...p.aliases])) {
    if (names.has(name)) throw new SimProfileError(`profile.sofia: "${name}" names two profiles`);
    names.add(name);
  }
  const placed = new Set<string>();
  for (const gateway of profiles.flatMap((p) => p.gateways)) {
    if (placed.has(gateway.name)) {
      throw new SimProfileError(`profile.sofia: gateway "${gateway.name}" is on two profiles`);
    }
    if (!carrierGateways.includes(gateway.name)) {
      throw new SimProfileError(`profile.sofia: gateway "${gateway.name}" has no carrier model`);
    }
    placed.add(gateway.name);
  }
  const unplaced = carrierGateways.filter((name) => !placed.has(name));
  if (unplaced.length > 0) {
    throw new SimProfileError(`profile.sofia: gateways ${unplaced.join(', ')} are on no profile`);
  }
  return profiles;
}

/** The profile a gateway sits on. */
export function profileOfGateway(
  profiles: readonly SofiaProfile[],
  gateway: string,
): { profile: SofiaProfile; gateway: SofiaGateway } | undefined {
  for (const profile of profiles) {
    const found = profile.gateways.find((g) => g.name === gateway);
    if (found) return { profile, gateway: found };
  }
  return undefined;
}
