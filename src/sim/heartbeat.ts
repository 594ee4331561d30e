/**
 * The HEARTBEAT FreeSWITCH's core sends every 20 s (fixture 50), with the session counters a
 * platform reads for load, and the RE_SCHEDULE event of the scheduler task that follows it.
 */
import { type EventOrigin, originHeaders, SimpleEvent } from './event.js';
import { uptimeText } from './reports.js';
import type { SwitchLimits } from './switch-limits.js';

export interface SwitchCounters extends ReturnType<SwitchLimits['snapshot']> {
  uptimeMs: number;
  sessionCount: number;
}

export function heartbeatEvents(
  c: SwitchCounters,
  origin: (calledFrom: readonly [string, string, string]) => EventOrigin,
  intervalMs: number,
): [SimpleEvent, SimpleEvent] {
  const headers = originHeaders('HEARTBEAT', origin(['switch_core.c', 'send_heartbeat', '95']));
  headers.push(
    ['Event-Info', 'System Ready'],
    ['Up-Time', uptimeText(c.uptimeMs)],
    ['FreeSWITCH-Version', '1.10.12-release+git~20240802T210227Z~a88d069d6f~64bit'],
    ['Uptime-msec', String(c.uptimeMs)],
    ['Session-Count', String(c.sessionCount)],
    ['Max-Sessions', String(c.maxSessions)],
    ['Session-Per-Sec', String(c.sessionsPerSecond)],
    ['Session-Per-Sec-Last', String(c.spsLast)],
    ['Session-Per-Sec-Max', String(c.spsMax)],
    ['Session-Per-Sec-FiveMin', String(c.spsFiveMin)],
    ['Session-Since-Startup', String(c.sessionsSinceStartup)],
    ['Session-Peak-Max', String(c.peak)],
    ['Session-Peak-FiveMin', String(c.peakFiveMin)],
    ['Idle-CPU', '98.000000'],
  );
  const reschedule = originHeaders(
    'RE_SCHEDULE',
    origin(['switch_scheduler.c', 'switch_scheduler_execute', '73']),
  );
  reschedule.push(
    ['Task-ID', '1'],
    ['Task-Desc', 'heartbeat'],
    ['Task-Group', 'core'],
    ['Task-Runtime', String(Math.floor((Date.now() + intervalMs) / 1000))],
  );
  return [new SimpleEvent('HEARTBEAT', headers), new SimpleEvent('RE_SCHEDULE', reschedule)];
}
