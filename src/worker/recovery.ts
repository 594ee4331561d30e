import type { Logger } from 'pino';
import { callRecordVerdict } from '../domain/call-record.js';
import type { AttemptEnded, DialOrder } from '../domain/dial-order.js';
import { nextStepAfterAttempt } from '../domain/retry-policy.js';
import type { CallRecordRepository, StoredCallRecord } from '../store/call-record-contract.js';
import type { AttemptEnding, OpenAttempt, Store } from '../store/contract.js';
import type { Worker } from './worker.js';

export interface RecoveryHooks {
  /** Re-holds the concurrency of a call that may still be live, before any new dispatch. */
  adoptCall(attempt: {
    id: string;
    campaignId: string;
    lineId: string;
    gatewayId: string;
    switchId: string;
    tenantId: string;
    callerId: string | null;
  }): void;
  /** An attempt was ended from its call record: its slots are free, its outcome counts. */
  attemptEnded?(end: AttemptEnded): void;
  /** A campaign's tasks moved (a requeued task may be due now). */
  tasksSubmitted?(campaignId: string): void;
}

export interface CallRecoveryOptions {
  store: Store;
  worker: Worker;
  logger: Logger;
  /** The scheduler of this process, when it has one (a cluster worker's is elsewhere). */
  hooks?: RecoveryHooks;
  /** Call records the switches posted (mod_json_cdr). Without it, today's rule: gone → `unknown`. */
  callRecords?: CallRecordRepository;
  /**
   * How long an attempt found gone from its switch, with no record yet, waits for its record
   * before it ends `unknown` (default 0: no wait). A switch posts the record at hang-up and
   * retries a failed post `retries` times `delay` seconds apart, so a record of a call that ended
   * while the platform was down arrives only once its API listens again: this should cover that
   * retry window.
   */
  callRecordWaitMs?: number;
  /** How often the waiting attempts' records are looked up (default 1 s). */
  callRecordPollMs?: number;
  clock?: () => number;
}

export interface RecoveryReport {
  /** Attempts never cleared to be sent (no write-ahead): ended `not_dialed`, dispatched again. */
  notDialed: string[];
  /** Attempts handed to the worker to follow (live on their switch, or not known to be gone). */
  followed: string[];
  /** Attempts ended now from their call record. */
  settled: string[];
  /** Attempts gone from their switch, waiting for a call record (then settled or followed). */
  awaiting: string[];
}

interface Candidate {
  attempt: OpenAttempt;
  order: DialOrder;
}

interface Awaiting extends Candidate {
  deadlineMs: number;
}

/**
 * Takes over attempts left open by a worker — this one's previous run, or a worker that died
 * (R3.6, ARCHITECTURE decision 3: recovery looks for evidence before it decides). Nothing is
 * re-dialed here; what the evidence cannot settle stays for an operator. In order:
 *
 * 0. An attempt its worker was never cleared to send (no `sendingAt` write-ahead: the worker
 *    marks each call before it writes the originate, on condition it is still its own) provably
 *    reached no switch: it ends `not_dialed`, and the retry policy dispatches it again at once.
 * 1. A stored call record (the switch writes it only once the channel is over) settles the
 *    attempt with its hang-up cause, classified as a live hang-up is (`answered` when it was
 *    answered, else busy, no answer, …; the retry policy then decides, counted from the call's
 *    end). It is never `not_dialed`: a record means the channel existed.
 * 2. Otherwise the worker follows the call: it looks it up on its switch (`uuid_exists`), follows
 *    it to its end if live, ends it `unknown` if gone.
 * 3. With `callRecordWaitMs`, an attempt that its switch says is gone first waits that long for
 *    its record (its slots held), polled every `callRecordPollMs`; then step 2.
 */
export class CallRecovery {
  private readonly clock: () => number;
  private readonly awaiting = new Map<string, Awaiting>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> = Promise.resolve();
  private readonly idleWaiters: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly options: CallRecoveryOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Takes over the open attempts of `fromWorkerId` (default: this worker's own previous run);
   * with `only`, just those it accepts (the others are left as they are).
   */
  async recover(
    fromWorkerId: string = this.options.worker.workerId,
    only: (attempt: OpenAttempt) => boolean = () => true,
  ): Promise<RecoveryReport> {
    const { store, worker, logger } = this.options;
    const report: RecoveryReport = { notDialed: [], followed: [], settled: [], awaiting: [] };
    // Moved to this worker in the store first: of two workers adopting the same calls, one gets each.
    const taken = (await store.dispatch.takeOver(fromWorkerId, worker.workerId)).filter(
      (a) => !this.awaiting.has(a.id) && only(a),
    );
    if (taken.length === 0) return report;
    // No write-ahead: its worker never sent it, and, the attempt being another's now (or its
    // worker dead), never will — it provably reached no switch.
    const unsent = taken.filter((a) => a.status === 'created' && a.sendingAt === null);
    const open = taken.filter((a) => !(a.status === 'created' && a.sendingAt === null));
    await this.endNotDialed(await this.candidates(unsent));
    report.notDialed.push(...unsent.map((a) => a.id));
    const candidates = await this.candidates(open);
    const records = await this.recordsOf(candidates.map((c) => c.attempt.id));

    const withRecord: Array<Candidate & { record: StoredCallRecord }> = [];
    const rest: Candidate[] = [];
    for (const candidate of candidates) {
      const record = records.get(candidate.attempt.id);
      if (record) withRecord.push({ ...candidate, record });
      else rest.push(candidate);
    }
    await this.settle(withRecord);
    report.settled.push(...withRecord.map((c) => c.attempt.id));

    const gone = await this.goneFromSwitch(rest);
    // The switch's answer took a moment: a record may have arrived meanwhile.
    const lateRecords = await this.recordsOf([...gone].map((c) => c.attempt.id));
    const lateSettled = [...gone].flatMap((c) => {
      const record = lateRecords.get(c.attempt.id);
      return record ? [{ ...c, record }] : [];
    });
    await this.settle(lateSettled);
    report.settled.push(...lateSettled.map((c) => c.attempt.id));

    const settled = new Set(report.settled);
    const deadlineMs = this.clock() + (this.options.callRecordWaitMs ?? 0);
    for (const candidate of rest) {
      const id = candidate.attempt.id;
      if (settled.has(id)) continue;
      this.options.hooks?.adoptCall(candidate.attempt);
      if (gone.has(candidate)) {
        this.awaiting.set(id, { ...candidate, deadlineMs });
        report.awaiting.push(id);
      } else {
        worker.adopt(candidate.order, candidate.attempt.status);
        report.followed.push(id);
      }
    }
    if (report.awaiting.length > 0) this.schedulePoll();
    logger.info(
      {
        fromWorkerId,
        notDialed: report.notDialed.length,
        followed: report.followed.length,
        settledFromCallRecords: report.settled.length,
        awaitingCallRecords: report.awaiting.length,
      },
      'recovering calls left open',
    );
    return report;
  }

  /** Resolves once no attempt waits for its record (each settled, or handed to the worker). */
  idle(): Promise<void> {
    if (this.awaiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops waiting (call it before stopping the worker); attempts still waiting stay open in the
   * store for the next run to recover.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.polling;
    this.awaiting.clear();
    this.notifyIdle();
  }

  private async candidates(open: OpenAttempt[]): Promise<Candidate[]> {
    const { store } = this.options;
    const lines = new Map((await store.resources.listLines()).map((l) => [l.id, l]));
    const gateways = new Map((await store.resources.listGateways()).map((g) => [g.id, g]));
    const candidates: Candidate[] = [];
    for (const attempt of open) {
      const campaign = await store.campaigns.get(attempt.tenantId, attempt.campaignId);
      const line = lines.get(attempt.lineId);
      const gateway = gateways.get(attempt.gatewayId);
      const order: DialOrder = {
        attemptId: attempt.id,
        taskId: attempt.taskId,
        tenantId: attempt.tenantId,
        campaign: {
          id: attempt.campaignId,
          retryPolicy: campaign?.retryPolicy ?? { maxAttempts: 1, retryDelaySec: {} },
          ringTimeoutSec: campaign?.ringTimeoutSec ?? 60,
          maxCallDurationSec: campaign?.maxCallDurationSec ?? 3600,
        },
        line: {
          id: attempt.lineId,
          dialTemplate: line?.dialTemplate ?? '',
          numberFormat: line?.numberFormat ?? 'e164',
        },
        gateway: { id: attempt.gatewayId, name: gateway?.name ?? '' },
        switchId: attempt.switchId,
        callerId: attempt.callerId,
        numberSealed: '',
        numberMasked: '',
        variables: {},
        taskAttemptCount: attempt.taskAttemptCount,
        taskNotDialedCount: attempt.taskNotDialedCount,
        taskExpiresAt: attempt.taskExpiresAt,
        dispatchedAtMs: attempt.createdAt,
      };
      candidates.push({ attempt, order });
    }
    return candidates;
  }

  /** Records of these attempts, keeping only those that name the same attempt. */
  private async recordsOf(attemptIds: string[]): Promise<Map<string, StoredCallRecord>> {
    const repository = this.options.callRecords;
    if (!repository || attemptIds.length === 0) return new Map();
    const found = await repository.getMany(attemptIds);
    for (const [id, record] of found) {
      if (record.attemptId !== null && record.attemptId !== id) {
        this.options.logger.warn({ attemptId: id }, 'a call record names another attempt; ignored');
        found.delete(id);
      }
    }
    return found;
  }

  /**
   * Which of these calls their switch says are gone (only asked when a wait for records is on;
   * otherwise the worker asks). A switch that is down or does not answer proves nothing.
   */
  private async goneFromSwitch(candidates: Candidate[]): Promise<Set<Candidate>> {
    const gone = new Set<Candidate>();
    if (!this.options.callRecords || !(this.options.callRecordWaitMs && this.options.callRecordWaitMs > 0)) {
      return gone;
    }
    const { worker, logger } = this.options;
    const BATCH = 100;
    for (let i = 0; i < candidates.length; i += BATCH) {
      await Promise.all(
        candidates.slice(i, i + BATCH).map(async (candidate) => {
          const { switchId, attemptId } = candidate.order;
          if (!worker.isSwitchUsable(switchId)) return;
          try {
            const answer = await worker.link(switchId)!.client.api(`uuid_exists ${attemptId}`);
            if (answer.trim() === 'false') gone.add(candidate);
          } catch (error) {
            logger.warn({ err: error, attemptId }, 'could not look a recovered call up on its switch');
          }
        }),
      );
    }
    return gone;
  }

  /** Ends attempts that never reached a switch as `not_dialed` (the retry policy sends them again at once). */
  private async endNotDialed(items: Candidate[]): Promise<void> {
    if (items.length === 0) return;
    const now = this.clock();
    const endings: AttemptEnding[] = items.map(({ attempt, order }) => ({
      attemptId: attempt.id,
      taskId: attempt.taskId,
      endedAtMs: now,
      hangupCause: 'NEVER_SENT',
      sipCode: null,
      outcome: 'not_dialed',
      mayHaveReachedCallee: false,
      next: nextStepAfterAttempt({
        outcome: 'not_dialed',
        nowMs: now,
        attemptCount: attempt.taskAttemptCount,
        notDialedCount: attempt.taskNotDialedCount + 1,
        expiresAt: attempt.taskExpiresAt,
        policy: order.campaign.retryPolicy,
      }),
      countsAsAttempt: false,
    }));
    await this.options.store.dispatch.finish(endings, now);
    this.announce(items, endings);
  }

  /** Tells the scheduler these attempts ended (their slots are free) and their campaigns moved. */
  private announce(items: Candidate[], endings: AttemptEnding[]): void {
    const { logger, hooks } = this.options;
    const campaigns = new Set<string>();
    for (const [i, { attempt }] of items.entries()) {
      const ending = endings[i]!;
      logger.debug(
        { attemptId: attempt.id, taskId: attempt.taskId, outcome: ending.outcome, cause: ending.hangupCause },
        'recovered call settled',
      );
      hooks?.attemptEnded?.({
        attemptId: attempt.id,
        taskId: attempt.taskId,
        campaignId: attempt.campaignId,
        outcome: ending.outcome,
        lineId: attempt.lineId,
        gatewayId: attempt.gatewayId,
        switchId: attempt.switchId,
      });
      campaigns.add(attempt.campaignId);
    }
    for (const campaignId of campaigns) hooks?.tasksSubmitted?.(campaignId);
  }

  /** Ends attempts from their records in one write, then tells the scheduler. */
  private async settle(items: Array<Candidate & { record: StoredCallRecord }>): Promise<void> {
    if (items.length === 0) return;
    const { store } = this.options;
    const endings: AttemptEnding[] = items.map(({ attempt, order, record }) => {
      const verdict = callRecordVerdict(record, attempt.status === 'answered');
      const countsAsAttempt = verdict.outcome !== 'not_dialed';
      // The switch's clock may run a little behind ours; an end before the attempt began is not.
      const endedAtMs = Math.max(record.endedAtMs, attempt.createdAt);
      return {
        attemptId: attempt.id,
        taskId: attempt.taskId,
        endedAtMs,
        hangupCause: record.hangupCause,
        sipCode: record.sipCode,
        outcome: verdict.outcome,
        mayHaveReachedCallee: verdict.mayHaveReachedCallee,
        // The policy's delays count from when the call really ended.
        next: nextStepAfterAttempt({
          outcome: verdict.outcome,
          nowMs: endedAtMs,
          attemptCount: attempt.taskAttemptCount + (countsAsAttempt ? 1 : 0),
          notDialedCount: verdict.outcome === 'not_dialed' ? attempt.taskNotDialedCount + 1 : 0,
          expiresAt: attempt.taskExpiresAt,
          policy: order.campaign.retryPolicy,
        }),
        countsAsAttempt,
      };
    });
    await store.dispatch.finish(endings, this.clock());
    this.announce(items, endings);
  }

  private schedulePoll(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.polling = this.poll().catch((error: unknown) => {
        this.options.logger.error({ err: error }, 'looking up call records of recovered calls failed');
      });
      void this.polling.finally(() => {
        if (this.awaiting.size > 0) this.schedulePoll();
        this.notifyIdle();
      });
    }, this.options.callRecordPollMs ?? 1_000);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const waiting = [...this.awaiting.values()];
    const records = await this.recordsOf(waiting.map((w) => w.attempt.id));
    if (this.stopped) return;
    const found = waiting.flatMap((w) => {
      const record = records.get(w.attempt.id);
      return record ? [{ ...w, record }] : [];
    });
    // Settled first, forgotten after: a failed write leaves them waiting for the next round.
    await this.settle(found);
    for (const item of found) this.awaiting.delete(item.attempt.id);
    const now = this.clock();
    for (const w of waiting) {
      if (!this.awaiting.has(w.attempt.id) || w.deadlineMs > now) continue;
      // No record in time: the worker looks again and, the call being gone, ends it `unknown`.
      this.awaiting.delete(w.attempt.id);
      this.options.worker.adopt(w.order, w.attempt.status);
    }
  }

  private notifyIdle(): void {
    if (this.awaiting.size > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

/**
 * After a restart, every attempt this worker left open is taken over (CallRecovery): settled from
 * its call record when the switch posted one, else followed by the worker. Returns how many.
 */
export async function recoverOpenAttempts(
  store: Store,
  worker: Worker,
  hooks: RecoveryHooks,
  logger: Logger,
  options: Pick<CallRecoveryOptions, 'callRecords' | 'clock'> = {},
): Promise<number> {
  const report = await new CallRecovery({ store, worker, hooks, logger, ...options }).recover();
  return report.notDialed.length + report.followed.length + report.settled.length + report.awaiting.length;
}
