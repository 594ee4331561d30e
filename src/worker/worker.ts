import type { Logger } from 'pino';
import type { AttemptStatus } from '../domain/attempt.js';
import type { AttemptEnded, DialOrder, DialPort } from '../domain/dial-order.js';
import { causeFromJobResult } from '../domain/hangup-cause.js';
import { parsePhoneNumber } from '../domain/phone-number.js';
import { nextStepAfterAttempt } from '../domain/retry-policy.js';
import {
  buildOriginateCommand,
  EslCommandError,
  type EslEvent,
  hangupFacts,
  renderDialTemplate,
} from '../esl/index.js';
import type { PlatformMetrics } from '../observability/metrics.js';
import type { SwitchLoad } from '../scheduler/core-types.js';
import type { NumberVault } from '../security/number-vault.js';
import type { Store } from '../store/contract.js';
import { AttemptRecorder } from './attempt-recorder.js';
import { type CallEnd, CallTracker } from './call-tracker.js';
import { type SwitchEndpoint, SwitchLink } from './switch-link.js';

export interface WorkerOptions {
  workerId: string;
  store: Store;
  vault: NumberVault;
  clock: () => number;
  logger: Logger;
  metrics: PlatformMetrics;
  /** Calls this worker follows at most at once. */
  maxCalls: number;
  /** `api status` to each switch this often; unanswered → the link is dropped and retried (default 10 s). */
  switchProbeMs?: number;
  /** The call ended: its slots are free (called at once, before the record is written). */
  onAttemptEnded(end: AttemptEnded): void;
  /** The callee answered (known at CHANNEL_ANSWER, long before the call ends). */
  onAttemptAnswered?(attemptId: string, route: { lineId: string; gatewayId: string }): void;
  /** The originate of an attempt was written to its switch at `atMs`. */
  onAttemptSent?(attemptId: string, atMs: number): void;
  /** A switch link became usable or stopped being so (R3.9). */
  onSwitchState?(switchId: string, usable: boolean): void;
  /** A switch reported its load in a HEARTBEAT (R3.5). */
  onSwitchLoad?(switchId: string, load: SwitchLoad): void;
  /** The call's record and its task's next state are durable. */
  onTasksMoved(campaignId: string): void;
  /** How long to wait for a channel's hang-up after its originate job failed. */
  jobFailureGraceMs?: number;
  /** Added to ring timeout + max duration before a silent call is checked on the switch. */
  watchdogGraceMs?: number;
}

interface LiveCall {
  tracker: CallTracker;
  timers: NodeJS.Timeout[];
  /** Taken over by recovery: its events may carry another worker's tag, so a filter on its uuid lets them in. */
  adopted?: boolean;
}

/**
 * Places and follows calls (ARCHITECTURE: worker/). It names each call before dialing (the
 * attempt id is the `origination_uuid`), tags it with its own id so the switch's filter delivers
 * only its own calls' events, and turns those events into attempt stages and a final outcome.
 * It never dials twice what may have rung: anything it cannot account for ends `unknown`.
 */
export class Worker implements DialPort {
  private readonly links = new Map<string, SwitchLink>();
  private readonly calls = new Map<string, LiveCall>();
  private readonly recorder: AttemptRecorder;
  private readonly jobFailureGraceMs: number;
  private readonly watchdogGraceMs: number;
  /** Calls built this turn, waiting for their write-ahead (see sendCleared). */
  private readonly toClear: Array<{ call: LiveCall; command: string }> = [];
  private clearScheduled = false;

  constructor(private readonly options: WorkerOptions) {
    this.recorder = new AttemptRecorder(
      options.store,
      options.clock,
      options.logger,
      10,
      1_000,
      (campaignIds) => {
        for (const id of campaignIds) options.onTasksMoved(id);
      },
    );
    this.jobFailureGraceMs = options.jobFailureGraceMs ?? 3_000;
    this.watchdogGraceMs = options.watchdogGraceMs ?? 30_000;
  }

  get workerId(): string {
    return this.options.workerId;
  }

  /** Connects to every enabled switch, drops links to switches that are gone or changed. */
  setSwitches(endpoints: SwitchEndpoint[]): void {
    const wanted = new Map(endpoints.map((e) => [e.id, e]));
    for (const [id, link] of this.links) {
      const next = wanted.get(id);
      const e = link.endpoint;
      if (!next || next.host !== e.host || next.port !== e.port || next.password !== e.password) {
        this.links.delete(id);
        void link.close();
      }
    }
    for (const endpoint of endpoints) {
      if (this.links.has(endpoint.id)) continue;
      const link = new SwitchLink(
        endpoint,
        this.options.workerId,
        this.options.logger,
        this.options.clock,
        this.options.switchProbeMs ?? 10_000,
        {
          event: (l, event) => {
            const labels = { switch: l.endpoint.name };
            this.options.metrics.eslEventsReceived.inc(labels);
            const bytes = l.client.bytesReceived;
            this.options.metrics.eslBytesReceived.inc(labels, bytes - l.bytesCounted);
            l.bytesCounted = bytes;
            this.handleEvent(l, event);
          },
          ready: (l) => void this.reconcileSwitch(l.endpoint.id),
          status: (l, status) => {
            const usable = status === 'ready';
            this.options.metrics.switchUp.set({ switch: l.endpoint.name }, usable ? 1 : 0);
            this.options.onSwitchState?.(l.endpoint.id, usable);
          },
          load: (l, load) => this.options.onSwitchLoad?.(l.endpoint.id, load),
        },
      );
      this.links.set(endpoint.id, link);
      link.start();
    }
  }

  link(switchId: string): SwitchLink | undefined {
    return this.links.get(switchId);
  }

  isSwitchUsable(switchId: string): boolean {
    return this.links.get(switchId)?.isReady ?? false;
  }

  get maxCalls(): number {
    return this.options.maxCalls;
  }

  /** Switches this worker holds (or is trying to hold) a link to. */
  switchIds(): string[] {
    return [...this.links.keys()];
  }

  isFollowing(attemptId: string): boolean {
    return this.calls.has(attemptId);
  }

  /** Following it, or it ended here and its ending is not yet in the store. */
  knows(attemptId: string): boolean {
    return this.calls.has(attemptId) || this.recorder.isEndingUnwritten(attemptId);
  }

  spareCapacity(): number {
    return Math.max(0, this.options.maxCalls - this.calls.size);
  }

  get activeCalls(): number {
    return this.calls.size;
  }

  /** Waits until every switch link is ready, or the deadline passes; returns the ids still down. */
  async waitForSwitches(timeoutMs: number): Promise<string[]> {
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([Promise.allSettled([...this.links.values()].map((l) => l.client.ready())), deadline]);
    return [...this.links.values()].filter((l) => !l.isReady).map((l) => l.endpoint.id);
  }

  dial(order: DialOrder): void {
    const { logger, metrics } = this.options;
    // One attempt is dialed once: an order delivered twice (a bus resend) must not replace the
    // call it already placed — a second originate under the same uuid would ring the callee again.
    if (this.calls.has(order.attemptId)) {
      logger.warn({ attemptId: order.attemptId }, 'order for a call already followed; ignored');
      return;
    }
    const call: LiveCall = { tracker: new CallTracker(order), timers: [] };
    this.calls.set(order.attemptId, call);
    metrics.callsActive.set(this.calls.size);
    const link = this.links.get(order.switchId);
    if (!link?.isReady) {
      this.finish(call, call.tracker.notSent('SWITCH_NOT_CONNECTED'));
      return;
    }
    let command: string;
    try {
      command = buildOriginateCommand({
        endpoint: renderDialTemplate(order.line.dialTemplate, {
          gateway: order.gateway.name,
          number: this.destinationOf(order),
        }),
        variables: this.channelVariables(order),
        application: { name: 'park' },
      });
    } catch (error) {
      logger.error(
        { err: error, attemptId: order.attemptId, numberMasked: order.numberMasked },
        'originate could not be built',
      );
      this.finish(call, call.tracker.notSent('INVALID_ORIGINATE'));
      return;
    }
    this.toClear.push({ call, command });
    if (!this.clearScheduled) {
      this.clearScheduled = true;
      // After the current run of dial() calls (a dispatch round, a batch of orders): one write for all.
      queueMicrotask(() => void this.sendCleared());
    }
  }

  /**
   * The write-ahead (R3.6): the calls of this turn are marked in the store as being sent — on
   * condition that each is still open and still this worker's — and only the ones marked are
   * written to their switches. So an attempt found unmarked by an adopter provably never reached
   * a switch (it ends `not_dialed`, dispatched again at once), and one taken over while this
   * worker was paused is never sent by it.
   */
  private async sendCleared(): Promise<void> {
    this.clearScheduled = false;
    const batch = this.toClear.splice(0);
    const { store } = this.options;
    let cleared: boolean[];
    try {
      const ids = batch.map((b) => b.call.tracker.order.attemptId);
      cleared = await store.dispatch.markSending(ids, this.options.workerId, this.options.clock());
    } catch (error) {
      this.options.logger.error({ err: error, calls: batch.length }, 'could not clear calls to be sent');
      for (const { call } of batch) this.finish(call, call.tracker.notSent('STORE_UNAVAILABLE'));
      return;
    }
    batch.forEach(({ call, command }, i) => {
      const { order } = call.tracker;
      if (this.calls.get(order.attemptId) !== call) return;
      if (!cleared[i]) {
        // Taken over meanwhile (this worker seemed gone): the adopter owns it, and it was never sent.
        this.forget(call);
        this.options.logger.warn(
          { attemptId: order.attemptId },
          'call taken over before it was sent; not sent',
        );
        return;
      }
      const link = this.links.get(order.switchId);
      if (!link?.isReady) this.finish(call, call.tracker.notSent('SWITCH_NOT_CONNECTED'));
      else if (order.sendByMs !== undefined && this.options.clock() > order.sendByMs)
        this.finish(call, call.tracker.notSent('ORDER_TOO_OLD'));
      else this.send(call, link, command);
    });
  }

  private send(call: LiveCall, link: SwitchLink, command: string): void {
    const { order } = call.tracker;
    const { clock, metrics } = this.options;
    const job = link.client.bgapi(command, { jobUuid: `${this.options.workerId}-${order.attemptId}` });
    const sentAt = clock();
    this.options.onAttemptSent?.(order.attemptId, sentAt);
    metrics.dispatchToOriginateMs.observe(sentAt - order.dispatchedAtMs);
    this.armWatchdog(call);
    job.accepted.then(
      () => this.progress(call, 'originated'),
      (error: unknown) => {
        // A refused command never ran; anything else leaves the switch's state to be checked.
        if (error instanceof EslCommandError) this.finish(call, call.tracker.notSent('ORIGINATE_REFUSED'));
      },
    );
    job.result.then(
      (body) => this.jobResult(call, body),
      () => {
        // Lost with the connection: reconcileSwitch() settles the call when the link is back.
      },
    );
  }

  /** An order this worker will not place (stale, from a deposed leader…): it ends `not_dialed` at once. */
  refuse(order: DialOrder, reason: string): void {
    if (this.calls.has(order.attemptId)) return;
    const call: LiveCall = { tracker: new CallTracker(order), timers: [] };
    this.calls.set(order.attemptId, call);
    this.finish(call, call.tracker.notSent(reason));
  }

  private destinationOf(order: DialOrder): string {
    const e164 = this.options.vault.decrypt(order.numberSealed);
    return order.line.numberFormat === 'national' ? parsePhoneNumber(e164, undefined).national : e164;
  }

  private channelVariables(order: DialOrder): Record<string, string> {
    return {
      origination_uuid: order.attemptId,
      originate_timeout: String(order.campaign.ringTimeoutSec),
      ...(order.callerId ? { origination_caller_id_number: order.callerId } : {}),
      sb_worker: this.options.workerId,
      sb_attempt: order.attemptId,
      sb_task: order.taskId,
      sb_campaign: order.campaign.id,
      sb_line: order.line.id,
    };
  }

  private jobResult(call: LiveCall, body: string): void {
    const cause = causeFromJobResult(body);
    if (cause === undefined) return; // +OK: the call was answered; its events tell the rest
    const end = call.tracker.jobFailed(cause);
    if (end) {
      this.finish(call, end);
      return;
    }
    call.timers.push(
      setTimeout(() => {
        const settled = call.tracker.settlePendingJob();
        if (settled) this.finish(call, settled);
      }, this.jobFailureGraceMs),
    );
  }

  private handleEvent(_link: SwitchLink, event: EslEvent): void {
    const uuid = event.uniqueId;
    if (uuid === undefined) return;
    const call = this.calls.get(uuid);
    if (!call) return;
    switch (event.name) {
      case 'CHANNEL_CREATE':
        call.tracker.channelSeen();
        break;
      case 'CHANNEL_PROGRESS':
      case 'CHANNEL_PROGRESS_MEDIA':
        call.tracker.channelSeen();
        this.progress(call, 'ringing');
        break;
      case 'CHANNEL_ANSWER':
        call.tracker.channelSeen();
        if (this.progress(call, 'answered')) {
          this.armMaxDuration(call);
          const { order } = call.tracker;
          this.options.onAttemptAnswered?.(order.attemptId, {
            lineId: order.line.id,
            gatewayId: order.gateway.id,
          });
        }
        break;
      case 'CHANNEL_HANGUP_COMPLETE': {
        const facts = hangupFacts(event);
        if (!facts) return;
        const end = call.tracker.hangup(facts);
        if (end) this.finish(call, end);
        break;
      }
    }
  }

  private progress(call: LiveCall, stage: 'originated' | 'ringing' | 'answered'): boolean {
    if (!call.tracker.advance(stage)) return false;
    this.recorder.recordProgress({
      attemptId: call.tracker.order.attemptId,
      status: stage,
      atMs: this.options.clock(),
    });
    return true;
  }

  /** A call answered longer than the campaign allows is hung up by us. */
  private armMaxDuration(call: LiveCall): void {
    const { order } = call.tracker;
    call.timers.push(
      setTimeout(() => {
        void this.links
          .get(order.switchId)
          ?.client.api(`uuid_kill ${order.attemptId} ALLOTTED_TIMEOUT`)
          .catch((error: unknown) =>
            this.options.logger.warn({ err: error, attemptId: order.attemptId }, 'uuid_kill failed'),
          );
      }, order.campaign.maxCallDurationSec * 1000),
    );
  }

  /** A call that goes silent past its longest possible life is checked on the switch. */
  private armWatchdog(call: LiveCall, delayMs?: number): void {
    const { order } = call.tracker;
    const lifetime =
      (order.campaign.ringTimeoutSec + order.campaign.maxCallDurationSec) * 1000 + this.watchdogGraceMs;
    call.timers.push(setTimeout(() => void this.checkOnSwitch(call, true), delayMs ?? lifetime));
  }

  private async checkOnSwitch(call: LiveCall, killIfLive: boolean): Promise<void> {
    const { order } = call.tracker;
    const link = this.links.get(order.switchId);
    if (call.tracker.ended || !link?.isReady) return;
    try {
      // Let the adopted call's events in before asking, so its hang-up cannot slip between.
      if (call.adopted) await link.client.filter('Unique-ID', order.attemptId);
      const exists = (await link.client.api(`uuid_exists ${order.attemptId}`)).trim() === 'true';
      if (call.tracker.ended) return;
      if (!exists) {
        const end = call.tracker.lost('NO_HANGUP_EVENT');
        if (end) this.finish(call, end);
      } else if (killIfLive) {
        await link.client.api(`uuid_kill ${order.attemptId} ALLOTTED_TIMEOUT`);
        this.armWatchdog(call, this.watchdogGraceMs);
      }
    } catch (error) {
      this.options.logger.warn(
        { err: error, attemptId: order.attemptId },
        'could not check a call on its switch',
      );
      this.armWatchdog(call, this.watchdogGraceMs);
    }
  }

  /**
   * After a reconnect, events of our calls may have been missed: each call still open on that
   * switch is looked up there. Live ones are followed on; gone ones end `unknown` — their outcome
   * cannot be known from here, and a call that may have rung is never re-dialed blindly.
   */
  async reconcileSwitch(switchId: string): Promise<void> {
    const open = [...this.calls.values()].filter(
      (c) => c.tracker.order.switchId === switchId && !c.tracker.ended,
    );
    await Promise.all(open.map((call) => this.checkOnSwitch(call, false)));
  }

  /**
   * Takes over an attempt left open by a previous run (recovery). It is looked up on its switch as
   * soon as the link is ready: followed to its end if live, ended `unknown` if gone.
   */
  adopt(order: DialOrder, status: AttemptStatus): void {
    if (this.calls.has(order.attemptId)) return;
    const call: LiveCall = { tracker: new CallTracker(order), timers: [] };
    // Its channel may carry another worker's tag (adopted from a gone worker, perhaps more than
    // once): its events are let in by its uuid, whoever placed it.
    call.adopted = true;
    if (status !== 'created' && status !== 'ended') call.tracker.advance(status);
    this.calls.set(order.attemptId, call);
    this.options.metrics.callsActive.set(this.calls.size);
    this.armWatchdog(call);
    if (status === 'answered') this.armMaxDuration(call);
    if (this.isSwitchUsable(order.switchId)) void this.checkOnSwitch(call, false);
  }

  /** Lets go of a call without ending it (another worker owns it now). */
  private forget(call: LiveCall): void {
    for (const timer of call.timers) clearTimeout(timer);
    this.calls.delete(call.tracker.order.attemptId);
    this.options.metrics.callsActive.set(this.calls.size);
  }

  private finish(call: LiveCall, end: CallEnd | null): void {
    if (!end) return;
    const { order } = call.tracker;
    const { clock, logger, metrics } = this.options;
    for (const timer of call.timers) clearTimeout(timer);
    this.calls.delete(order.attemptId);
    if (call.adopted)
      void this.links
        .get(order.switchId)
        ?.client.filterDelete('Unique-ID', order.attemptId)
        .catch(() => {});
    metrics.callsActive.set(this.calls.size);
    metrics.attempts.inc({ outcome: end.outcome });
    const now = clock();
    const countsAsAttempt = end.outcome !== 'not_dialed';
    const next = nextStepAfterAttempt({
      outcome: end.outcome,
      nowMs: now,
      attemptCount: order.taskAttemptCount + (countsAsAttempt ? 1 : 0),
      notDialedCount: end.outcome === 'not_dialed' ? order.taskNotDialedCount + 1 : 0,
      expiresAt: order.taskExpiresAt,
      policy: order.campaign.retryPolicy,
    });
    this.recorder.recordEnding(
      {
        attemptId: order.attemptId,
        taskId: order.taskId,
        endedAtMs: now,
        hangupCause: end.hangupCause,
        sipCode: end.sipCode,
        outcome: end.outcome,
        mayHaveReachedCallee: end.mayHaveReachedCallee,
        next,
        countsAsAttempt,
      },
      order.campaign.id,
    );
    logger.debug(
      {
        attemptId: order.attemptId,
        taskId: order.taskId,
        numberMasked: order.numberMasked,
        outcome: end.outcome,
        cause: end.hangupCause,
      },
      'call ended',
    );
    this.options.onAttemptEnded({
      attemptId: order.attemptId,
      taskId: order.taskId,
      switchId: order.switchId,
      campaignId: order.campaign.id,
      outcome: end.outcome,
      lineId: order.line.id,
      gatewayId: order.gateway.id,
    });
  }

  flush(): Promise<void> {
    return this.recorder.flush();
  }

  /** Stops following calls (they go on on the switch; a restart recovers them) and closes the links. */
  async stop(): Promise<void> {
    for (const call of this.calls.values()) for (const timer of call.timers) clearTimeout(timer);
    this.calls.clear();
    await this.recorder.flush();
    await Promise.all([...this.links.values()].map((link) => link.close()));
    this.links.clear();
  }
}
