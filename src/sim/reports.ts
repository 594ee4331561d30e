/** Texts of the status-like api commands, laid out as FreeSWITCH 1.10.12 prints them (fixtures 10–17). */
import { localStamp } from './event.js';
import type { SofiaProfile } from './sofia-profiles.js';

export const VERSION_TEXT =
  'FreeSWITCH Version 1.10.12-release+git~20240802T210227Z~a88d069d6f~64bit (git a88d069 2024-08-02 21:02:27Z 64bit)\n';

export interface SwitchCounters {
  uptimeMs: number;
  sessionsSinceStartup: number;
  sessionCount: number;
  peak: number;
  peakFiveMin: number;
  spsLast: number;
  spsMax: number;
  spsFiveMin: number;
  sessionsPerSecond: number;
  maxSessions: number;
}

export function uptimeText(ms: number): string {
  const s = Math.floor(ms / 1000);
  const days = Math.floor(s / 86400);
  return `${Math.floor(days / 365)} years, ${days % 365} days, ${Math.floor(s / 3600) % 24} hours, ${
    Math.floor(s / 60) % 60
  } minutes, ${s % 60} seconds, ${Math.floor(ms) % 1000} milliseconds, 0 microseconds`;
}

export function statusText(c: SwitchCounters): string {
  return (
    `UP ${uptimeText(c.uptimeMs)}\n` +
    'FreeSWITCH (Version 1.10.12-release git a88d069 2024-08-02 21:02:27Z 64bit) is ready\n' +
    `${c.sessionsSinceStartup} session(s) since startup\n` +
    `${c.sessionCount} session(s) - peak ${c.peak}, last 5min ${c.peakFiveMin} \n` +
    `${c.spsLast} session(s) per Sec out of max ${c.sessionsPerSecond}, peak ${c.spsMax}, last 5min ${c.spsFiveMin} \n` +
    `${c.maxSessions} session(s) max\n` +
    'min idle cpu 0.00/99.00\n' +
    'Current Stack Size/Max 240K/8192K\n'
  );
}

/**
 * `sofia status` (mod_sofia's cmd_status; fixture 12). FreeSWITCH walks its profile hash, whose
 * order is the hash's; we print every alias first, then each profile followed by its gateways, in
 * the order configured — which is how the recorded switch's vanilla layout came out. A profile's
 * `RUNNING (n)` counts the calls on it.
 */
export function sofiaStatusText(
  profiles: readonly SofiaProfile[],
  callsOn: (profile: SofiaProfile) => number,
): string {
  const row = (name: string, type: string, data: string, state: string) =>
    `${name.padStart(25)}\t${type.padStart(7)}\t  ${data.padStart(40)}\t${state}\n`;
  const rule = `${'='.repeat(97)}\n`;
  let out = row('Name', 'Type', 'Data', 'State') + rule;
  let aliases = 0;
  for (const profile of profiles) {
    for (const alias of profile.aliases) {
      out += row(alias, 'alias', profile.name, 'ALIASED');
      aliases++;
    }
  }
  for (const profile of profiles) {
    out += row(profile.name, 'profile', profile.url, `RUNNING (${callsOn(profile)})`);
    for (const gateway of profile.gateways) {
      out += row(`${profile.name}::${gateway.name}`, 'gateway', gateway.registerTo, 'NOREG');
    }
  }
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return `${out}${rule}${count(profiles.length, 'profile', 'profiles')} ${count(aliases, 'alias', 'aliases')}\n`;
}

export interface GatewayCounters {
  /** The sofia profile the gateway sits on, and that profile's contact (`sip:mod_sofia@ip:port`). */
  profile: SofiaProfile;
  uptimeSec: number;
  callsOut: number;
  failedCallsOut: number;
}

export function sofiaGatewayText(name: string, c: GatewayCounters): string {
  const rule = '='.repeat(97);
  const profileHost = c.profile.url.slice(c.profile.url.indexOf('@') + 1);
  return [
    rule,
    `Name    \t${name}`,
    `Profile \t${c.profile.name}`,
    'Scheme  \tDigest',
    'Realm   \t127.0.0.1:5090',
    `Username\t${name}`,
    'Password\tyes',
    `From    \t<sip:${name}@127.0.0.1:5090>`,
    `Contact \t<sip:gw+${name}@${profileHost};transport=udp;gw=${name}>`,
    `Exten   \t${name}`,
    `To      \tsip:${name}@127.0.0.1:5090`,
    'Proxy   \tsip:127.0.0.1:5090',
    'Context \tpublic',
    'Expires \t3600',
    'Freq    \t3600',
    'Ping    \t0',
    'PingFreq\t0',
    'PingTime\t0.00',
    'PingState\t0/0/0',
    'State   \tNOREG',
    'Status  \tUP',
    `Uptime  \t${c.uptimeSec}s`,
    'CallsIN \t0',
    `CallsOUT\t${c.callsOut}`,
    'FailedCallsIN\t0',
    `FailedCallsOUT\t${c.failedCallsOut}`,
    rule,
    '',
  ].join('\n');
}

export interface ChannelRow {
  uuid: string;
  createdMs: number;
  destination: string;
  callerIdNumber: string;
  answered: boolean;
  hostname: string;
}

/** `show channels as json` (fixture 17); the row keys are FreeSWITCH's, in its order. */
export function showChannelsJson(rows: readonly ChannelRow[]): string {
  if (rows.length === 0) return '{"row_count":0}';
  const json = rows.map((r) => ({
    uuid: r.uuid,
    direction: 'outbound',
    created: localStamp(r.createdMs),
    created_epoch: String(Math.floor(r.createdMs / 1000)),
    name: `sofia/external/${r.destination}`,
    state: r.answered ? 'CS_EXECUTE' : 'CS_CONSUME_MEDIA',
    cid_name: r.answered ? 'Outbound Call' : '',
    cid_num: r.answered ? r.destination : r.callerIdNumber,
    ip_addr: '',
    dest: r.destination,
    application: r.answered ? 'park' : '',
    application_data: '',
    dialplan: '',
    context: 'default',
    read_codec: 'PCMU',
    read_rate: '8000',
    read_bit_rate: '64000',
    write_codec: 'PCMU',
    write_rate: '8000',
    write_bit_rate: '64000',
    secure: '',
    hostname: r.hostname,
    presence_id: '',
    presence_data: '',
    accountcode: '',
    callstate: r.answered ? 'ACTIVE' : 'RINGING',
    callee_name: '',
    callee_num: r.answered ? r.callerIdNumber : '',
    callee_direction: r.answered ? 'RECV' : '',
    call_uuid: r.uuid,
    sent_callee_name: '',
    sent_callee_num: '',
    initial_cid_name: '',
    initial_cid_num: r.callerIdNumber,
    initial_ip_addr: '',
    initial_dest: r.destination,
    initial_dialplan: '',
    initial_context: 'default',
  }));
  return JSON.stringify({ row_count: rows.length, rows: json });
}

/**
 * `show calls as json`: the calls view (fixture 17), one row per call. An originated call with
 * no B-leg has every b_* field and call_created_epoch empty.
 */
export function showCallsJson(rows: readonly ChannelRow[]): string {
  if (rows.length === 0) return '{"row_count":0}';
  const B_FIELDS = [
    'uuid',
    'direction',
    'created',
    'created_epoch',
    'name',
    'state',
    'cid_name',
    'cid_num',
    'ip_addr',
    'dest',
    'presence_id',
    'presence_data',
    'accountcode',
    'callstate',
    'callee_name',
    'callee_num',
    'callee_direction',
    'sent_callee_name',
    'sent_callee_num',
  ];
  const json = rows.map((r) => {
    const row: Record<string, string> = {
      uuid: r.uuid,
      direction: 'outbound',
      created: localStamp(r.createdMs),
      created_epoch: String(Math.floor(r.createdMs / 1000)),
      name: `sofia/external/${r.destination}`,
      state: r.answered ? 'CS_EXECUTE' : 'CS_CONSUME_MEDIA',
      cid_name: r.answered ? 'Outbound Call' : '',
      cid_num: r.answered ? r.destination : r.callerIdNumber,
      ip_addr: '',
      dest: r.destination,
      presence_id: '',
      presence_data: '',
      accountcode: '',
      callstate: r.answered ? 'ACTIVE' : 'RINGING',
      callee_name: '',
      callee_num: r.answered ? r.callerIdNumber : '',
      callee_direction: r.answered ? 'RECV' : '',
      call_uuid: r.uuid,
      hostname: r.hostname,
      sent_callee_name: '',
      sent_callee_num: '',
    };
    for (const field of B_FIELDS) row[`b_${field}`] = '';
    row.call_created_epoch = '';
    return row;
  });
  return JSON.stringify({ row_count: rows.length, rows: json });
}
