/**
 * Dialplan applications run on a live call through `sendmsg <uuid>` with `call-command: execute`.
 * Only `playback` and `hangup` are simulated. The recordings hold no playback, so its events carry
 * a reduced header set — the 13 origin headers, the channel's identity (Unique-ID,
 * Channel-Call-UUID, Channel-Name, Answer-State), the application fields FreeSWITCH sets
 * (Application, Application-Data, Application-UUID, Playback-File-Path) and the originate's
 * variables as `variable_<name>`, so a worker's `variable_sb_worker` filter lets them through.
 * Order as FreeSWITCH fires them: CHANNEL_EXECUTE, PLAYBACK_START, … PLAYBACK_STOP,
 * CHANNEL_EXECUTE_COMPLETE. A file "plays" for PLAYBACK_MS of sim time; a call that ends first
 * gets no PLAYBACK_STOP (FreeSWITCH would send one with Playback-Status: break).
 */
import type { Channel } from './channel.js';
import { type EventOrigin, originHeaders, SimpleEvent } from './event.js';

export const PLAYBACK_MS = 1000;

export interface ApplicationHost {
  origin(calledFrom: readonly [string, string, string]): EventOrigin;
  emitEvent(event: SimpleEvent): void;
  newUuid(): string;
  /** Real milliseconds for a sim-time delay. */
  realMs(simMs: number): number;
  isLive(channel: Channel): boolean;
}

export type ApplicationOutcome = { ok: true } | { ok: false; reply: string };

const EXECUTE_FROM = ['switch_core_session.c', 'switch_core_session_exec', '2972'] as const;
const PLAYBACK_FROM = ['switch_ivr_play_say.c', 'switch_ivr_play_file', '1547'] as const;

export function executeApplication(
  channel: Channel,
  app: string,
  arg: string,
  host: ApplicationHost,
): ApplicationOutcome {
  if (app === 'hangup') {
    channel.kill(arg.trim() || 'NORMAL_CLEARING');
    return { ok: true };
  }
  if (app !== 'playback') return { ok: false, reply: `-ERR the simulator does not run application ${app}` };
  const appUuid = host.newUuid();
  const event = (name: string, calledFrom: readonly [string, string, string], extra: [string, string][]) => {
    const headers = originHeaders(name, host.origin(calledFrom));
    headers.push(
      ['Channel-Name', `sofia/external/${channel.params.destination}`],
      ['Unique-ID', channel.uuid],
      ['Channel-Call-UUID', channel.uuid],
      ['Answer-State', channel.phase === 'answered' ? 'answered' : 'early'],
      ['Application', 'playback'],
      ['Application-Data', arg],
      ['Application-UUID', appUuid],
      ...extra,
    );
    for (const [variable, value] of channel.params.variables) headers.push([`variable_${variable}`, value]);
    return new SimpleEvent(name, headers, undefined, channel.uuid);
  };
  // Like FreeSWITCH's session thread, the application starts after the sendmsg reply.
  setImmediate(() => {
    if (!host.isLive(channel)) return;
    host.emitEvent(event('CHANNEL_EXECUTE', EXECUTE_FROM, []));
    host.emitEvent(event('PLAYBACK_START', PLAYBACK_FROM, [['Playback-File-Path', arg]]));
    setTimeout(() => {
      if (!host.isLive(channel)) return;
      host.emitEvent(
        event('PLAYBACK_STOP', PLAYBACK_FROM, [
          ['Playback-File-Path', arg],
          ['Playback-Status', 'done'],
        ]),
      );
      host.emitEvent(
        event('CHANNEL_EXECUTE_COMPLETE', EXECUTE_FROM, [['Application-Response', 'FILE PLAYED']]),
      );
    }, host.realMs(PLAYBACK_MS)).unref();
  });
  return { ok: true };
}
