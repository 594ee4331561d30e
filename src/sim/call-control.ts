/**
 * The api commands that act on a live call: uuid_broadcast, uuid_transfer, uuid_bridge. Reply
 * texts are mod_commands.c's (signalwire/freeswitch, 1.10): none of these is in the recordings.
 *
 * - uuid_broadcast <uuid> <path> [aleg|bleg|holdb|both]: FreeSWITCH queues a playback on the leg
 *   and answers `+OK Message Sent` whatever switch_ivr_broadcast returned, so an unknown uuid gets
 *   the same answer (and nothing plays). Here the playback runs as `sendmsg execute playback` does
 *   (applications.ts: CHANNEL_EXECUTE, PLAYBACK_START, PLAYBACK_STOP, CHANNEL_EXECUTE_COMPLETE).
 *   `bleg`/`both` also play on the call a uuid_bridge joined it with, if any.
 * - uuid_transfer <uuid> [-bleg|-both] <dest> [dialplan] [context]: `+OK`, `-ERR No Such Channel!`.
 *   The call continues; the simulator has no dialplan, so the transfer shows only as the state
 *   changes switch_ivr_session_transfer causes — CHANNEL_STATE CS_ROUTING, then CS_EXECUTE — with
 *   the new Caller-Destination-Number, Caller-Dialplan and Caller-Context. As every CHANNEL_STATE,
 *   they carry no variable_* headers (ESL-NOTES), so a worker's variable filter drops them.
 * - uuid_bridge <uuid> <other>: `+OK <other>`, `-ERR Invalid uuid` (either leg unknown, or both the
 *   same). FreeSWITCH fires one CHANNEL_BRIDGE, about the originating leg (<uuid>), with
 *   Bridge-A-Unique-ID and Bridge-B-Unique-ID (switch_ivr_bridge.c); so does the simulator. Both
 *   calls keep their own carrier timing.
 */
import { type ApplicationHost, executeApplication } from './applications.js';
import type { Channel } from './channel.js';
import { originHeaders, SimpleEvent } from './event.js';

export interface CallControlHost extends ApplicationHost {
  channel(uuid: string): Channel | undefined;
}

const BROADCAST_USAGE = '-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n';
const TRANSFER_USAGE = '-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n';
const BRIDGE_USAGE = '-USAGE: <uuid> <other_uuid>\n';
const STATE_FROM = ['switch_core_state_machine.c', 'switch_core_session_run', '624'] as const;
const BRIDGE_FROM = ['switch_ivr_bridge.c', 'audio_bridge_on_exchange_media', '1027'] as const;

/** FreeSWITCH's switch_separate_string on ' ': runs of spaces are one separator. */
function words(args: string): string[] {
  return args.split(' ').filter((word) => word !== '');
}

export class CallControl {
  /** uuid_bridge pairs, both directions; forgotten when either call ends. */
  private readonly partners = new Map<string, string>();

  constructor(private readonly host: CallControlHost) {}

  callEnded(uuid: string): void {
    const partner = this.partners.get(uuid);
    this.partners.delete(uuid);
    if (partner !== undefined && this.partners.get(partner) === uuid) this.partners.delete(partner);
  }

  broadcast(args: string): string {
    const [uuid, path, legs] = words(args);
    if (uuid === undefined || path === undefined) return BROADCAST_USAGE;
    const targets: string[] = [];
    const legText = (legs ?? 'aleg').toLowerCase();
    const partner = this.partners.get(uuid);
    if (legText.includes('aleg') || legText.includes('both') || legText.includes('holdb')) targets.push(uuid);
    if ((legText.includes('bleg') || legText.includes('both')) && partner !== undefined)
      targets.push(partner);
    for (const target of targets) {
      const channel = this.host.channel(target);
      if (channel) executeApplication(channel, 'playback', path, this.host);
    }
    return '+OK Message Sent\n';
  }

  transfer(args: string): string {
    const argv = words(args);
    if (argv.length < 2 || argv.length > 5) return TRANSFER_USAGE;
    const channel = this.host.channel(argv[0]!);
    if (!channel) return '-ERR No Such Channel!\n';
    const flagged = argv[1]!.startsWith('-');
    const [dest, dialplan = 'XML', context = 'default'] = argv.slice(flagged ? 2 : 1);
    if (dest === undefined) return '-ERR\n';
    const legs = [channel];
    const partner = this.partners.get(channel.uuid);
    const other = partner === undefined ? undefined : this.host.channel(partner);
    if (other && argv[1] === '-bleg') legs.splice(0, 1, other);
    if (other && argv[1] === '-both') legs.push(other);
    // After the reply, as the transferred session's own thread runs the new state.
    setImmediate(() => {
      for (const leg of legs) {
        if (!this.host.isLive(leg)) continue;
        for (const [state, number] of [
          ['CS_ROUTING', '2'],
          ['CS_EXECUTE', '4'],
        ] as const) {
          const headers = originHeaders('CHANNEL_STATE', this.host.origin(STATE_FROM));
          headers.push(
            ['Channel-State', state],
            ['Channel-Call-State', leg.phase === 'answered' ? 'ACTIVE' : 'EARLY'],
            ['Channel-State-Number', number],
            ['Channel-Name', `sofia/external/${leg.params.destination}`],
            ['Unique-ID', leg.uuid],
            ['Call-Direction', 'outbound'],
            ['Answer-State', leg.phase === 'answered' ? 'answered' : 'early'],
            ['Caller-Destination-Number', dest],
            ['Caller-Dialplan', dialplan],
            ['Caller-Context', context],
            ['Channel-Call-UUID', leg.uuid],
          );
          this.host.emitEvent(new SimpleEvent('CHANNEL_STATE', headers, undefined, leg.uuid));
        }
      }
    });
    return '+OK\n';
  }

  bridge(args: string): string {
    const [uuid, other] = words(args);
    if (uuid === undefined || other === undefined) return BRIDGE_USAGE;
    const a = this.host.channel(uuid);
    const b = this.host.channel(other);
    if (!a || !b || a === b) return '-ERR Invalid uuid\n';
    this.callEnded(uuid);
    this.callEnded(other);
    this.partners.set(uuid, other);
    this.partners.set(other, uuid);
    setImmediate(() => {
      if (!this.host.isLive(a) || !this.host.isLive(b)) return;
      const headers = originHeaders('CHANNEL_BRIDGE', this.host.origin(BRIDGE_FROM));
      headers.push(
        ['Bridge-A-Unique-ID', a.uuid],
        ['Bridge-B-Unique-ID', b.uuid],
        ['Channel-Name', `sofia/external/${a.params.destination}`],
        ['Unique-ID', a.uuid],
        ['Call-Direction', 'outbound'],
        ['Answer-State', a.phase === 'answered' ? 'answered' : 'early'],
        ['Other-Leg-Unique-ID', b.uuid],
        ['Channel-Call-UUID', a.uuid],
      );
      for (const [variable, value] of a.params.variables) headers.push([`variable_${variable}`, value]);
      headers.push(['variable_bridge_uuid', b.uuid]);
      this.host.emitEvent(new SimpleEvent('CHANNEL_BRIDGE', headers, undefined, a.uuid));
    });
    return `+OK ${other}\n`;
  }
}
