/**
 * The modules a simulated switch has loaded, and the MODULE_UNLOAD events a shutdown fires for
 * them (switch_loadable_module_unprocess: one event per interface, by interface type in a fixed
 * order, each type from its own source line and with its own headers). Part of the switch's
 * profile (profile.ts), so another build's module set can be described; the default is the one
 * the recorded vanilla FreeSWITCH 1.10.12 build unloaded before its Event Socket closed
 * (fixture 90).
 */
import { type EventOrigin, originHeaders, SimpleEvent } from './event.js';
import { SimProfileError } from './profile-error.js';

/** In the order switch_loadable_module_unprocess walks them, with the line each event comes from. */
const INTERFACE_TYPES = {
  endpoint: '1126',
  codec: '1180',
  dialplan: '1198',
  application: '1240',
  api: '1297',
  json_api: '1329',
  file: '1361',
  chat: '1547',
  say: '1574',
  management: '1593',
  limit: '1611',
  generic: '1622',
} as const;

export type ModuleInterfaceType = keyof typeof INTERFACE_TYPES;

export interface ModuleInterface {
  type: ModuleInterfaceType;
  name: string;
  /** application, api, json_api. Not sent when absent (as FreeSWITCH drops an empty header). */
  description?: string;
  /** application, api. */
  syntax?: string;
}

export interface LoadedModule {
  /** `mod_sofia`, or a core module's name (`CORE_PCM_MODULE`). */
  key: string;
  /** The shared object; api interfaces name it. Core modules have none. */
  filename?: string;
  interfaces: ModuleInterface[];
}

const SO_DIR = '/usr/freeswitch/lib/freeswitch/mod';

/**
 * What the recorded vanilla 1.10.12 build unloaded, in its order, up to its Event Socket going
 * away (fixture 90; paths as normalised there). Modules unloaded after mod_event_socket are not
 * listed: no client can see their events.
 */
export const VANILLA_1_10_12_MODULES: readonly LoadedModule[] = [
  {
    key: 'mod_db',
    filename: `${SO_DIR}/mod_db.so`,
    interfaces: [
      {
        type: 'application',
        name: 'db',
        description: 'Insert to the db',
        syntax: '[insert|delete]/<realm>/<key>/<val>',
      },
      {
        type: 'application',
        name: 'group',
        description: 'Manage a group',
        syntax: '[insert|delete]:<group name>:<val>',
      },
      {
        type: 'api',
        name: 'db',
        description: 'db get/set',
        syntax: '[insert|delete|select|exists|count|list]/<realm>/<key>/<value>',
      },
      {
        type: 'api',
        name: 'group',
        description: 'group [insert|delete|call]',
        syntax: '[insert|delete|call]:<group name>:<url>',
      },
      { type: 'limit', name: 'db' },
    ],
  },
  {
    key: 'mod_dialplan_xml',
    filename: `${SO_DIR}/mod_dialplan_xml.so`,
    interfaces: [{ type: 'dialplan', name: 'XML' }],
  },
  { key: 'CORE_SPEEX_MODULE', interfaces: [{ type: 'codec', name: 'Speex' }] },
  {
    key: 'mod_opus',
    filename: `${SO_DIR}/mod_opus.so`,
    interfaces: [
      { type: 'codec', name: 'OPUS (STANDARD)' },
      { type: 'api', name: 'opus_debug', description: 'Set OPUS Debug', syntax: '<on|off>' },
    ],
  },
  {
    key: 'mod_native_file',
    filename: `${SO_DIR}/mod_native_file.so`,
    interfaces: [
      { type: 'file', name: 'PCMU' },
      { type: 'file', name: 'L16' },
      { type: 'file', name: 'PCMA' },
    ],
  },
  {
    key: 'mod_loopback',
    filename: `${SO_DIR}/mod_loopback.so`,
    interfaces: [
      { type: 'endpoint', name: 'loopback' },
      { type: 'endpoint', name: 'null' },
      { type: 'application', name: 'unloop', description: 'Tell loopback to unfold' },
    ],
  },
  {
    key: 'mod_console',
    filename: `${SO_DIR}/mod_console.so`,
    interfaces: [
      {
        type: 'api',
        name: 'console',
        description: 'Console',
        syntax: 'loglevel [level]|colorize [on|toggle|off]|uuid [on|toggle|off]|json [on|toggle|off]',
      },
    ],
  },
  {
    key: 'mod_tone_stream',
    filename: `${SO_DIR}/mod_tone_stream.so`,
    interfaces: [
      { type: 'file', name: 'tone_stream' },
      { type: 'file', name: 'silence_stream' },
    ],
  },
  {
    key: 'CORE_PCM_MODULE',
    interfaces: [
      { type: 'codec', name: 'PROXY VIDEO PASS-THROUGH' },
      { type: 'codec', name: 'PROXY PASS-THROUGH' },
      { type: 'codec', name: 'RAW Signed Linear (16 bit)' },
      { type: 'codec', name: 'G.711 ulaw' },
      { type: 'codec', name: 'G.711 alaw' },
    ],
  },
  { key: 'mod_say_en', filename: `${SO_DIR}/mod_say_en.so`, interfaces: [{ type: 'say', name: 'en' }] },
  {
    key: 'mod_logfile',
    filename: `${SO_DIR}/mod_logfile.so`,
    interfaces: [{ type: 'generic', name: 'mod_logfile' }],
  },
  {
    key: 'mod_sofia',
    filename: `${SO_DIR}/mod_sofia.so`,
    interfaces: [
      { type: 'endpoint', name: 'sofia' },
      { type: 'endpoint', name: 'rtp' },
      {
        type: 'application',
        name: 'sofia_sla',
        description: 'private sofia sla function',
        syntax: '<uuid>',
      },
      {
        type: 'application',
        name: 'sofia_stir_shaken_vs',
        description: 'Verify SIP Identity header and store result in sip_verstat channel variable',
      },
      { type: 'api', name: 'sofia', description: 'Sofia Controls', syntax: '<cmd> <args>' },
      {
        type: 'api',
        name: 'sofia_gateway_data',
        description: 'Get data from a sofia gateway',
        syntax: '<gateway_name> [ivar|ovar|var] <name>',
      },
      {
        type: 'api',
        name: 'sofia_username_of',
        description: 'Sofia Username Lookup',
        syntax: '[profile/]<user>@<domain>',
      },
      {
        type: 'api',
        name: 'sofia_contact',
        description: 'Sofia Contacts',
        syntax: '[profile/]<user>@<domain>',
      },
      {
        type: 'api',
        name: 'sofia_count_reg',
        description: 'Count Sofia registration',
        syntax: '[profile/]<user>@<domain>',
      },
      { type: 'api', name: 'sofia_dig', description: 'SIP DIG', syntax: '<url>' },
      {
        type: 'api',
        name: 'sofia_presence_data',
        description: 'Sofia Presence Data',
        syntax: '[list|status|rpid|user_agent] [profile/]<user>@domain',
      },
      { type: 'json_api', name: 'sofia.status', description: 'sofia status JSON API' },
      { type: 'json_api', name: 'sofia.status.info', description: 'sofia status JSON API' },
      { type: 'chat', name: 'sip' },
      { type: 'management', name: '1001' },
    ],
  },
];

/** The module every simulated call's channel belongs to (all are sofia/gateway/… channels). */
export const CALL_ENDPOINT = 'sofia';

/**
 * A module whose endpoint still has channels cannot unload: unprocess takes the endpoint's write
 * lock, which every channel of it holds until it is destroyed (fixture 90: sofia's unloads come
 * after the hung-up call's CHANNEL_DESTROY, the modules before it unload meanwhile).
 */
export function hostsCalls(module: LoadedModule): boolean {
  return module.interfaces.some((i) => i.type === 'endpoint' && i.name === CALL_ENDPOINT);
}

const TYPE_ORDER = Object.keys(INTERFACE_TYPES) as ModuleInterfaceType[];

export function moduleUnloadEvents(
  module: LoadedModule,
  origin: (calledFrom: readonly [string, string, string]) => EventOrigin,
): SimpleEvent[] {
  const interfaces = [...module.interfaces].sort(
    (a, b) => TYPE_ORDER.indexOf(a.type) - TYPE_ORDER.indexOf(b.type),
  );
  return interfaces.map((iface) => {
    const line = INTERFACE_TYPES[iface.type];
    const headers = originHeaders(
      'MODULE_UNLOAD',
      origin(['switch_loadable_module.c', 'switch_loadable_module_unprocess', line]),
    );
    headers.push(['type', iface.type], ['name', iface.name]);
    if (iface.description) headers.push(['description', iface.description]);
    if (iface.syntax) headers.push(['syntax', iface.syntax]);
    if (iface.type === 'api') {
      headers.push(['key', module.key]);
      if (module.filename) headers.push(['filename', module.filename]);
    }
    if (iface.type === 'codec' || iface.type === 'file') headers.push(['module', module.key]);
    return new SimpleEvent('MODULE_UNLOAD', headers);
  });
}

// --- from a profile file ---

const TEXT = /^[^\r\n]{1,300}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalText(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !TEXT.test(value)) {
    throw new SimProfileError(`${where} must be a one-line string of 1 to 300 characters`);
  }
  return value;
}

function moduleInterface(value: unknown, where: string): ModuleInterface {
  if (!isRecord(value)) throw new SimProfileError(`${where} must be an object {type, name, …}`);
  if (typeof value.type !== 'string' || !Object.hasOwn(INTERFACE_TYPES, value.type)) {
    throw new SimProfileError(`${where}.type must be one of ${TYPE_ORDER.join(', ')}`);
  }
  const name = optionalText(value.name, `${where}.name`);
  if (name === undefined) throw new SimProfileError(`${where}.name is required`);
  const iface: ModuleInterface = { type: value.type as ModuleInterfaceType, name };
  const description = optionalText(value.description, `${where}.description`);
  const syntax = optionalText(value.syntax, `${where}.syntax`);
  if (description !== undefined) iface.description = description;
  if (syntax !== undefined) iface.syntax = syntax;
  return iface;
}

/** `profile.modules`: the loaded modules in unload order, each `{key, filename?, interfaces}`. */
export function parseLoadedModules(json: unknown): LoadedModule[] {
  if (!Array.isArray(json)) throw new SimProfileError('profile.modules must be an array');
  return json.map((value, i) => {
    const where = `profile.modules[${i}]`;
    if (!isRecord(value))
      throw new SimProfileError(`${where} must be an object {key, filename?, interfaces}`);
    const key = optionalText(value.key, `${where}.key`);
    if (key === undefined) throw new SimProfileError(`${where}.key is required`);
    if (!Array.isArray(value.interfaces)) throw new SimProfileError(`${where}.interfaces must be an array`);
    const module: LoadedModule = {
      key,
      interfaces: value.interfaces.map((iface, j) => moduleInterface(iface, `${where}.interfaces[${j}]`)),
    };
    const filename = optionalText(value.filename, `${where}.filename`);
    if (filename !== undefined) module.filename = filename;
    return module;
  });
}
