import type { Logger } from 'pino';
import { EslClient, type EslClientStatus, type EslEvent, heartbeatFacts } from '../esl/index.js';
import type { SwitchLoad } from '../scheduler/core-types.js';

export interface SwitchEndpoint {
  id: string;
  name: string;
  host: string;
  port: number;
  password: string;
}

/** What the worker subscribes to: its calls' lifecycle, its jobs' results, and the switch's heartbeat. */
export const WORKER_EVENTS = [
  'CHANNEL_CREATE',
  'CHANNEL_PROGRESS',
  'CHANNEL_PROGRESS_MEDIA',
  'CHANNEL_ANSWER',
  'CHANNEL_HANGUP_COMPLETE',
  'BACKGROUND_JOB',
  'HEARTBEAT',
] as const;

/**
 * The switch-side filters that make each worker receive only its own calls' events (R3.3,
 * ESL-NOTES): a channel-variable filter alone would drop every BACKGROUND_JOB, so jobs are let
 * through by our own Job-UUID prefix, and the heartbeat by name. Filters are OR'ed in FreeSWITCH.
 */
export function workerFilters(workerId: string): Array<readonly [string, string]> {
  return [
    ['variable_sb_worker', workerId],
    ['Job-UUID', `/^${workerId}-/`],
    ['Event-Name', 'HEARTBEAT'],
  ];
}

/** One worker's Event Socket connection to one switch. */
export class SwitchLink {
  readonly client: EslClient;
  load: SwitchLoad | null = null;
  /** Of `client.bytesReceived`, what the metrics have counted so far. */
  bytesCounted = 0;

  constructor(
    readonly endpoint: SwitchEndpoint,
    workerId: string,
    private readonly logger: Logger,
    private readonly clock: () => number,
    probeIntervalMs: number,
    handlers: {
      event(link: SwitchLink, event: EslEvent): void;
      /** Every time the link becomes ready: events may have been missed while it was not. */
      ready(link: SwitchLink): void;
      status(link: SwitchLink, status: EslClientStatus): void;
      load(link: SwitchLink, load: SwitchLoad): void;
    },
  ) {
    this.client = new EslClient({
      host: endpoint.host,
      port: endpoint.port,
      password: endpoint.password,
      events: WORKER_EVENTS,
      filters: workerFilters(workerId),
      reconnect: { minDelayMs: 250, maxDelayMs: 10_000 },
      commandTimeoutMs: 10_000,
      // R3.9: a switch that stops answering is noticed within a probe period (plus its timeout).
      liveness: { probeIntervalMs, probeTimeoutMs: Math.min(2_000, Math.floor(probeIntervalMs / 2)) },
      logger: logger.child({ switch: endpoint.name }),
    });
    this.client.onEvent((event) => {
      if (event.name === 'HEARTBEAT' && this.noteHeartbeat(event)) handlers.load(this, this.load!);
      handlers.event(this, event);
    });
    let up = false;
    this.client.onStatus((status, cause) => {
      handlers.status(this, status);
      if (status === 'ready') {
        up = true;
        this.logger.info({ switch: endpoint.name }, 'switch connected');
        handlers.ready(this);
      } else if (status === 'reconnecting') {
        // Said once when a working link goes down; each failed retry after that is detail.
        if (up) this.logger.warn({ switch: endpoint.name, err: cause }, 'switch connection lost');
        else this.logger.debug({ switch: endpoint.name, err: cause }, 'switch still unreachable');
        up = false;
      }
    });
  }

  get isReady(): boolean {
    return this.client.status === 'ready';
  }

  start(): void {
    this.client.start();
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private noteHeartbeat(event: EslEvent): boolean {
    const facts = heartbeatFacts(event);
    if (!facts) return false;
    this.load = {
      sessionCount: facts.sessionCount ?? 0,
      maxSessions: facts.maxSessions ?? 0,
      idleCpuPercent: facts.idleCpuPercent,
      atMs: this.clock(),
    };
    return true;
  }
}
