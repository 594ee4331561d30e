import type { AttemptStatus } from '../domain/attempt.js';
import { attemptStageRank } from '../domain/attempt.js';
import type { DialOrder } from '../domain/dial-order.js';
import { classifyHangup } from '../domain/hangup-cause.js';
import type { OutcomeVerdict } from '../domain/outcome.js';

export interface CallEnd extends OutcomeVerdict {
  hangupCause: string | null;
  sipCode: number | null;
}

/**
 * What a worker knows about one call, fed by switch events in whatever order they arrive
 * (ESL-NOTES: BACKGROUND_JOB may come before or after CHANNEL_HANGUP_COMPLETE). Pure: it decides
 * stages and the final verdict; the worker does the I/O.
 */
export class CallTracker {
  status: AttemptStatus = 'created';
  channelCreated = false;
  /** Set when the originate job failed but the channel's own hang-up has not arrived yet. */
  pendingJobCause: string | null = null;
  ended: CallEnd | null = null;

  constructor(readonly order: DialOrder) {}

  /** Moves to a later stage; returns whether this is news. Stages never go backwards. */
  advance(stage: Exclude<AttemptStatus, 'created' | 'ended'>): boolean {
    if (this.ended || attemptStageRank(stage) <= attemptStageRank(this.status)) return false;
    this.status = stage;
    return true;
  }

  channelSeen(): void {
    this.channelCreated = true;
  }

  /** CHANNEL_HANGUP_COMPLETE: the switch's own account of how the call ended. */
  hangup(facts: { cause: string; sipCode: number | undefined; answered: boolean }): CallEnd | null {
    if (this.ended) return null;
    const answered = facts.answered || this.status === 'answered';
    const verdict = classifyHangup({
      cause: facts.cause,
      answered,
      channelCreated: true,
      ...(facts.sipCode !== undefined ? { sipCode: facts.sipCode } : {}),
    });
    return this.end({ ...verdict, hangupCause: facts.cause, sipCode: facts.sipCode ?? null });
  }

  /**
   * A failed originate job. Without a channel the call never left the switch and the verdict is
   * final now; with one, the channel's hang-up (with its SIP code) is the better witness, so the
   * worker waits a little for it before settling on this.
   */
  jobFailed(cause: string): CallEnd | null {
    if (this.ended) return null;
    if (this.channelCreated) {
      this.pendingJobCause = cause;
      return null;
    }
    return this.end({
      ...classifyHangup({ cause, answered: false, channelCreated: false }),
      hangupCause: cause,
      sipCode: null,
    });
  }

  /** The channel's hang-up never came after a failed job: settle on the job's cause. */
  settlePendingJob(): CallEnd | null {
    if (this.ended || this.pendingJobCause === null) return null;
    const cause = this.pendingJobCause;
    return this.end({
      ...classifyHangup({ cause, answered: this.status === 'answered', channelCreated: this.channelCreated }),
      hangupCause: cause,
      sipCode: null,
    });
  }

  /** Nothing was sent: the switch was not connected, or refused the command outright. */
  notSent(reason: string): CallEnd | null {
    if (this.ended) return null;
    return this.end({
      outcome: 'not_dialed',
      mayHaveReachedCallee: false,
      hangupCause: reason,
      sipCode: null,
    });
  }

  /** Evidence is lost (disconnect, crash): never retried automatically (R3.6). */
  lost(reason: string): CallEnd | null {
    if (this.ended) return null;
    return this.end({ outcome: 'unknown', mayHaveReachedCallee: true, hangupCause: reason, sipCode: null });
  }

  private end(end: CallEnd): CallEnd {
    this.ended = end;
    this.status = 'ended';
    return end;
  }
}
