/**
 * The `api` command table of one simulated switch (what mod_commands answers), kept apart from the
 * node's listener, calls and limits. Originate and shutdown stay with the node, which owns the
 * state they change; this table only reads and dispatches.
 */
import type { CallControl } from './call-control.js';
import { isKnownCause } from './causes.js';
import type { Channel } from './channel.js';
import type { SwitchCounters } from './heartbeat.js';
import {
  showCallsJson,
  showChannelsJson,
  sofiaGatewayText,
  sofiaStatusText,
  statusText,
  VERSION_TEXT,
} from './reports.js';
import { profileOfGateway, type SofiaProfile } from './sofia-profiles.js';
import type { SwitchLimits } from './switch-limits.js';

export interface GatewayStats {
  callsOut: number;
  failedCallsOut: number;
}

export interface ApiCommandHost {
  readonly name: string;
  readonly channels: ReadonlyMap<string, Channel>;
  readonly limits: SwitchLimits;
  readonly gatewayStats: ReadonlyMap<string, GatewayStats>;
  readonly sofiaProfiles: readonly SofiaProfile[];
  readonly callControl: CallControl;
  startedMs(): number;
  counters(): SwitchCounters;
  /** api originate: resolves with the api/response body once the call is answered or failed. */
  originate(args: string): Promise<string>;
  killChannel(uuid: string, cause: string): boolean;
  /** fsctl shutdown, started after the reply. */
  shutdown(): void;
}

export function runApiCommand(command: string, args: string, host: ApiCommandHost): string | Promise<string> {
  switch (command) {
    case 'originate':
      return host.originate(args);
    case 'status':
      return statusText(host.counters());
    case 'version':
      return VERSION_TEXT;
    case 'show':
      return show(args, host);
    case 'uuid_exists':
      return host.channels.has(args.trim()) ? 'true' : 'false';
    case 'uuid_kill': {
      const [uuid = '', cause = 'NORMAL_CLEARING'] = args.trim().split(/\s+/);
      return host.killChannel(uuid, cause) ? '+OK\n' : '-ERR No such channel!\n';
    }
    case 'uuid_broadcast':
      return host.callControl.broadcast(args);
    case 'uuid_transfer':
      return host.callControl.transfer(args);
    case 'uuid_bridge':
      return host.callControl.bridge(args);
    case 'uuid_getvar': {
      const [uuid = '', name = ''] = args.trim().split(/\s+/);
      const channel = host.channels.get(uuid);
      if (!channel) return '-ERR No such channel!\n';
      return channel.variable(name) ?? (name === 'uuid' ? uuid : '_undef_');
    }
    case 'hupall': {
      const cause = args.trim().split(/\s+/)[0] || 'MANAGER_REQUEST';
      for (const channel of [...host.channels.values()])
        channel.kill(isKnownCause(cause) ? cause : 'MANAGER_REQUEST');
      return `+OK hangup all channels with cause ${cause}\n`;
    }
    case 'sofia':
      return sofia(args.trim().split(/\s+/), host);
    case 'fsctl':
      return fsctl(args.trim().split(/\s+/), host);
    default:
      return `-ERR ${command} Command not found!\n`;
  }
}

function show(args: string, host: ApiCommandHost): string {
  const words = args.trim().split(/\s+/);
  const what = words[0];
  if (what !== 'calls' && what !== 'channels') return '-USAGE: show <type>\n';
  if (words[1] === 'count') return `\n${host.channels.size} total.\n`;
  const rows = [...host.channels.values()].map((channel) => ({
    uuid: channel.uuid,
    createdMs: channel.createdMs,
    destination: channel.params.destination,
    callerIdNumber: channel.values.get('cid') ?? '',
    answered: channel.phase === 'answered',
    hostname: host.name,
  }));
  if (words[1] === 'as' && words[2] === 'json') {
    return what === 'calls' ? showCallsJson(rows) : showChannelsJson(rows);
  }
  const lines = rows.map((r) => `${r.uuid},outbound,${r.createdMs},sofia/external/${r.destination}`);
  return `uuid,direction,created_epoch,name\n${lines.join('\n')}${lines.length ? '\n' : ''}\n${rows.length} total.\n`;
}

function sofia(argv: string[], host: ApiCommandHost): string {
  if (argv[0] !== 'status') return '-ERR Unknown command!\n';
  if (argv[1] === undefined) {
    const calls = [...host.channels.values()];
    return sofiaStatusText(
      host.sofiaProfiles,
      (profile) =>
        calls.filter((call) => profile.gateways.some((g) => g.name === call.params.gateway)).length,
    );
  }
  if (argv[1] === 'gateway' && argv[2] !== undefined) {
    const stats = host.gatewayStats.get(argv[2]);
    const placed = profileOfGateway(host.sofiaProfiles, argv[2]);
    if (!stats || !placed) return 'Invalid Gateway!\n';
    return sofiaGatewayText(argv[2], {
      profile: placed.profile,
      uptimeSec: Math.floor((Date.now() - host.startedMs()) / 1000),
      ...stats,
    });
  }
  return 'Invalid Profile!\n';
}

function fsctl(argv: string[], host: ApiCommandHost): string {
  const value = argv[1] === undefined ? undefined : Number.parseInt(argv[1], 10);
  if (argv[0] === 'max_sessions') {
    return `+OK max sessions: ${host.limits.setMaxSessions(value)}\n`;
  }
  if (argv[0] === 'sps') {
    return `+OK sessions per second: ${host.limits.setSessionsPerSecond(value)}\n`;
  }
  if (argv[0] === 'shutdown') {
    host.shutdown();
    return '+OK\n';
  }
  return '-ERR INVALID COMMAND\n';
}
