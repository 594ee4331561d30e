/**
 * `fsctl shutdown` as FreeSWITCH 1.10.12 does it (fixture 90, times after the command):
 *   - the api answers `+OK` at once (the API event goes to ALL listeners);
 *   - SHUTDOWN (switch_core_destroy), then each live call's CHANNEL_HANGUP with SYSTEM_SHUTDOWN,
 *     fired by the core's thread (+120 ms);
 *   - MODULE_UNLOAD for each interface of each loaded module (loaded-modules.ts), while the calls'
 *     own threads finish their hangups; a module whose endpoint still has calls (sofia) unloads
 *     only after they are destroyed (+620 ms);
 *   - mod_sofia's profiles stop: UNPUBLISH for a profile with nothing to wait for (+830 ms), a
 *     `sofia::gateway_delete` CUSTOM event for each gateway (+1150 ms);
 *   - "The system is being shut down." on every socket, then EOF (+1230 ms), when
 *     mod_event_socket goes: what it unloads after that, no client sees.
 * Only listeners subscribed to those events (ALL in the recording) see SHUTDOWN, MODULE_UNLOAD,
 * UNPUBLISH and CUSTOM; every socket sees the calls' events it subscribed to, and the notice.
 */
import { type EventOrigin, originHeaders, SimpleEvent } from './event.js';
import type { SofiaProfile } from './sofia-profiles.js';

type Origin = (calledFrom: readonly [string, string, string]) => EventOrigin;

const NOTICE = 'The system is being shut down.\n';

/** The disconnect notice of a shutting-down switch (no Controlled-Session-UUID, no disposition). */
export const SHUTDOWN_NOTICE = `Content-Type: text/disconnect-notice\nContent-Length: ${Buffer.byteLength(NOTICE)}\n\n${NOTICE}`;

/** Delay between the last shutdown event and the sockets closing, in sim time (fixture 90: ~1.2 s). */
export const SHUTDOWN_CLOSE_DELAY_MS = 1200;

export function shutdownEvent(origin: Origin): SimpleEvent {
  const headers = originHeaders('SHUTDOWN', origin(['switch_core.c', 'switch_core_destroy', '3023']));
  headers.push(['Event-Info', 'System Shutting Down']);
  return new SimpleEvent('SHUTDOWN', headers);
}

function sipPort(url: string): string {
  return /:(\d+)$/.exec(url)?.[1] ?? '5060';
}

function unpublishEvent(profile: SofiaProfile, origin: Origin): SimpleEvent {
  const headers = originHeaders('UNPUBLISH', origin(['sofia.c', 'sofia_profile_thread_run', '3552']));
  headers.push(
    ['service', '_sip._udp,_sip._tcp,_sip._sctp'],
    ['port', sipPort(profile.url)],
    ['module_name', 'mod_sofia'],
    ['profile_name', profile.name],
    ['profile_uri', profile.url],
  );
  return new SimpleEvent('UNPUBLISH', headers);
}

function gatewayDeleteEvent(profile: SofiaProfile, gateway: string, origin: Origin): SimpleEvent {
  const subclass = 'sofia::gateway_delete';
  // A CUSTOM event names its subclass first (switch_event_create_subclass).
  const headers: [string, string][] = [
    ['Event-Subclass', subclass],
    ...originHeaders('CUSTOM', origin(['sofia_reg.c', 'sofia_reg_check_gateway', '343'])),
    ['profile-name', profile.name],
    ['Gateway', gateway],
  ];
  return new SimpleEvent('CUSTOM', headers);
}

/**
 * The events of mod_sofia's profiles stopping, in the order a client sees them. A profile with
 * no gateway and no call stops first (UNPUBLISH); a profile's gateways are deleted by its worker
 * thread, then the profile unpublishes, unless calls were hung up on it by the shutdown: sofia then
 * waits for their sessions in 5 s steps (sofia_profile_thread_run), longer than mod_event_socket
 * lives, so no client sees that UNPUBLISH (fixture 90: the external profile, which carried the
 * call, deleted its two gateways and was still going when the sockets closed).
 */
export function sofiaShutdownEvents(
  profiles: readonly SofiaProfile[],
  profilesWithCalls: ReadonlySet<string>,
  origin: Origin,
): SimpleEvent[] {
  const isIdle = (p: SofiaProfile) => p.gateways.length === 0 && !profilesWithCalls.has(p.name);
  const events = profiles.filter(isIdle).map((profile) => unpublishEvent(profile, origin));
  for (const profile of profiles.filter((p) => !isIdle(p))) {
    for (const gateway of profile.gateways) events.push(gatewayDeleteEvent(profile, gateway.name, origin));
    if (!profilesWithCalls.has(profile.name)) events.push(unpublishEvent(profile, origin));
  }
  return events;
}

/** The sofia profiles that carry calls on these gateways. */
export function profilesCarrying(gateways: Iterable<string>, profiles: readonly SofiaProfile[]): Set<string> {
  const carrying = new Set<string>();
  for (const gateway of gateways) {
    const profile = profiles.find((p) => p.gateways.some((g) => g.name === gateway));
    if (profile) carrying.add(profile.name);
  }
  return carrying;
}
