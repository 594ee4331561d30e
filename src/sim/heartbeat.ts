/**
 * The HEARTBEAT FreeSWITCH's core sends every 20 s (fixture 50), with the session counters a
 * platform reads for load, and the RE_SCHEDULE events of the scheduler tasks that follow it.
 */
import { type EventOrigin, originHeaders, SimpleEvent } from './event.js';
import { uptimeText } from './reports.js';
import type { SwitchLimits } from './switch-limits.js';

export interface SwitchCounters extends ReturnType<SwitchLimits['snapshot']> {
  uptimeMs: number;
  sessionCount: number;
}

/**
 * The events of heartbeat number `beat` since start-up. The scheduler's other core task, check_ip,
 * runs every 60 s from start-up, so every third heartbeat (20 s) is followed by its RE_SCHEDULE too
 * (fixtures 36 and 50: Task-ID 2, after the heartbeat's own).
 */
export function heartbeatEvents(
  c: SwitchCounters,
  origin: (calledFrom: readonly [string, string, string]) => EventOrigin,
  intervalMs: number,
  beat: number,
): SimpleEvent[] {
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
  const events = [
    new SimpleEvent('HEARTBEAT', headers),
    reschedule(origin, { id: 1, desc: 'heartbeat', nextInMs: intervalMs }),
  ];
  if (beat % CHECK_IP_EVERY_BEATS === 0) {
    events.push(reschedule(origin, { id: 2, desc: 'check_ip', nextInMs: intervalMs * CHECK_IP_EVERY_BEATS }));
  }
  return events;
}

const CHECK_IP_EVERY_BEATS = 3;

function reschedule(
  origin: (calledFrom: readonly [string, string, string]) => EventOrigin,
  task: { id: number; desc: string; nextInMs: number },
): SimpleEvent {
  const headers = originHeaders(
    'RE_SCHEDULE',
    origin(['switch_scheduler.c', 'switch_scheduler_execute', '73']),
  );
  headers.push(
    ['Task-ID', String(task.id)],
    ['Task-Desc', task.desc],
    ['Task-Group', 'core'],
    ['Task-Runtime', String(Math.floor((Date.now() + task.nextInMs) / 1000))],
  );
  return new SimpleEvent('RE_SCHEDULE', headers);
}
