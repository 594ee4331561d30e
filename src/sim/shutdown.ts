/**
 * `fsctl shutdown` as FreeSWITCH 1.10 does it (fixture 90): the api answers `+OK` at once; then a
 * SHUTDOWN event, every live call hung up with SYSTEM_SHUTDOWN, MODULE_UNLOAD for each module;
 * about a second later every socket gets the disconnect notice "The system is being shut down."
 * and is closed. The recording unloads ~55 modules; we fire the first four it shows, which is
 * the shape a client sees (a burst of MODULE_UNLOAD it did not ask about, when subscribed to ALL).
 * In the recording the first hangup event comes between SHUTDOWN and the first MODULE_UNLOAD and
 * the call's other events interleave with the unloads; here the call's events all come first.
 */
import { type EventOrigin, originHeaders, SimpleEvent } from './event.js';

const UNLOADED_MODULES: ReadonlyArray<readonly (readonly [string, string])[]> = [
  [
    ['type', 'application'],
    ['name', 'db'],
    ['description', 'Insert to the db'],
    ['syntax', '[insert|delete]/<realm>/<key>/<val>'],
  ],
  [
    ['type', 'application'],
    ['name', 'group'],
    ['description', 'Manage a group'],
    ['syntax', '[insert|delete]:<group name>:<val>'],
  ],
  [
    ['type', 'api'],
    ['name', 'db'],
    ['description', 'db get/set'],
    ['syntax', '[insert|delete|select|exists|count|list]/<realm>/<key>/<value>'],
    ['key', 'mod_db'],
    ['filename', '/usr/freeswitch/lib/freeswitch/mod/mod_db.so'],
  ],
  [
    ['type', 'api'],
    ['name', 'group'],
    ['description', 'group [insert|delete|call]'],
    ['syntax', '[insert|delete|call]:<group name>:<url>'],
    ['key', 'mod_db'],
    ['filename', '/usr/freeswitch/lib/freeswitch/mod/mod_db.so'],
  ],
];

const NOTICE = 'The system is being shut down.\n';

/** The disconnect notice of a shutting-down switch (no Controlled-Session-UUID, no disposition). */
export const SHUTDOWN_NOTICE = `Content-Type: text/disconnect-notice\nContent-Length: ${Buffer.byteLength(NOTICE)}\n\n${NOTICE}`;

/** Delay between the shutdown command and the sockets closing, in sim time (fixture 90: ~1.2 s). */
export const SHUTDOWN_CLOSE_DELAY_MS = 1200;

export function shutdownEvent(
  origin: (calledFrom: readonly [string, string, string]) => EventOrigin,
): SimpleEvent {
  const headers = originHeaders('SHUTDOWN', origin(['switch_core.c', 'switch_core_destroy', '3023']));
  headers.push(['Event-Info', 'System Shutting Down']);
  return new SimpleEvent('SHUTDOWN', headers);
}

export function moduleUnloadEvents(
  origin: (calledFrom: readonly [string, string, string]) => EventOrigin,
): SimpleEvent[] {
  return UNLOADED_MODULES.map((module) => {
    const headers = originHeaders(
      'MODULE_UNLOAD',
      origin(['switch_loadable_module.c', 'switch_loadable_module_unprocess', '1240']),
    );
    for (const [name, value] of module) headers.push([name, value]);
    return new SimpleEvent('MODULE_UNLOAD', headers);
  });
}
