/**
 * The API event of switch_api_execute (switch_loadable_module.c), fired for every api and bgapi
 * command. It is created, and so dated and numbered, when the command starts, and fired when the
 * command returns: a bgapi originate's API event carries the originate's start time and an
 * Event-Sequence older than the call's first event, yet arrives after the answer, right before
 * BACKGROUND_JOB (fixture 36).
 */
import { type EventOrigin, originHeaders, SimpleEvent } from './event.js';

export const API_EVENT_CALLED_FROM = ['switch_loadable_module.c', 'switch_api_execute', '2954'] as const;

/** `command` and `args` as the client sent them; FreeSWITCH strips surrounding whitespace. */
export function apiEvent(origin: EventOrigin, command: string, args: string): SimpleEvent {
  const headers = originHeaders('API', origin);
  headers.push(['API-Command', command.trim()]);
  const argument = args.trim();
  // An empty argument leaves the header out (switch_api_execute only adds a non-empty one).
  if (argument !== '') headers.push(['API-Command-Argument', argument]);
  return new SimpleEvent('API', headers);
}
