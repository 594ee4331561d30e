import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { OUTCOMES } from '../domain/outcome.js';

export interface ResourceSample {
  level: string;
  resource: string;
  inFlight: number;
  answerRate?: number;
}

/** The platform's Prometheus metrics, on a registry of its own (several platforms can share a process in tests). */
export class PlatformMetrics {
  readonly registry = new Registry();

  readonly attempts = new Counter({
    name: 'switchboard_call_attempts_total',
    help: 'Call attempts that ended, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly callsActive = new Gauge({
    name: 'switchboard_calls_active',
    help: 'Calls this process is following right now (dispatched and not yet ended)',
    registers: [this.registry],
  });

  /** Events and bytes a worker receives from its switches (R3.3: they follow its own calls). */
  readonly eslEventsReceived = new Counter({
    name: 'switchboard_esl_events_received_total',
    help: 'Event Socket events received from switches',
    labelNames: ['switch'] as const,
    registers: [this.registry],
  });

  readonly eslBytesReceived = new Counter({
    name: 'switchboard_esl_bytes_received_total',
    help: 'Event Socket bytes received from switches',
    labelNames: ['switch'] as const,
    registers: [this.registry],
  });

  readonly dispatched = new Counter({
    name: 'switchboard_dispatched_total',
    help: 'Tasks handed to a worker with every slot held',
    registers: [this.registry],
  });

  readonly slotDenials = new Counter({
    name: 'switchboard_slot_denials_total',
    help: 'Dial slots refused, by reason (caps, concurrency) and level (campaign, line, gateway, switch)',
    labelNames: ['reason', 'level'] as const,
    registers: [this.registry],
  });

  readonly dispatchDelayMs = new Histogram({
    name: 'switchboard_dispatch_delay_ms',
    help: 'From a task falling due (or being submitted) to its dispatch, ms',
    buckets: [1, 2, 5, 10, 20, 50, 100, 250, 1000, 5000, 30_000, 120_000],
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'switchboard_campaign_queue_depth',
    help: 'Tasks the scheduler holds ready or due soon, per campaign',
    labelNames: ['campaign'] as const,
    registers: [this.registry],
  });

  readonly lineState = new Gauge({
    name: 'switchboard_line_state',
    help: 'Line health: 0 healthy, 1 probing, 2 ejected (R3.10)',
    labelNames: ['line'] as const,
    registers: [this.registry],
  });

  readonly lineDispatched = new Counter({
    name: 'switchboard_line_dispatched_total',
    help: 'Calls dispatched per line (CAPS granted)',
    labelNames: ['line'] as const,
    registers: [this.registry],
  });

  /** Filled at scrape time from the scheduler's view (see `observeResources`). */
  readonly inFlight = new Gauge({
    name: 'switchboard_in_flight',
    help: 'Calls holding a concurrency slot, per resource (level: line, gateway, switch, campaign, tenant)',
    labelNames: ['level', 'resource'] as const,
    registers: [this.registry],
    collect: () => this.collectResources(),
  });

  readonly lineAnswerRate = new Gauge({
    name: 'switchboard_line_answer_rate',
    help: 'Answered ÷ attempts over the health window (2 min), per line',
    labelNames: ['line'] as const,
    registers: [this.registry],
  });

  private resourceSource: (() => ResourceSample[]) | null = null;

  /** The scheduler registers how to read its live per-resource numbers when scraped. */
  observeResources(source: () => ResourceSample[]): void {
    this.resourceSource = source;
  }

  private collectResources(): void {
    if (!this.resourceSource) return;
    this.inFlight.reset();
    this.lineAnswerRate.reset();
    for (const sample of this.resourceSource()) {
      this.inFlight.set({ level: sample.level, resource: sample.resource }, sample.inFlight);
      if (sample.answerRate !== undefined)
        this.lineAnswerRate.set({ line: sample.resource }, sample.answerRate);
    }
  }

  readonly dispatchToOriginateMs = new Histogram({
    name: 'switchboard_dispatch_to_originate_ms',
    help: 'From the scheduler granting a call to the originate being written to the switch, ms',
    buckets: [0.5, 1, 2, 5, 10, 20, 50, 100, 250, 1000],
    registers: [this.registry],
  });

  readonly switchUp = new Gauge({
    name: 'switchboard_switch_up',
    help: '1 when this process holds a ready Event Socket connection to the switch',
    labelNames: ['switch'] as const,
    registers: [this.registry],
  });

  observeQueues(queues: Array<{ campaignId: string; queued: number }>): void {
    this.queueDepth.reset();
    for (const q of queues) this.queueDepth.set({ campaign: q.campaignId }, q.queued);
  }

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_' });
    for (const outcome of OUTCOMES) this.attempts.inc({ outcome }, 0);
  }
}
