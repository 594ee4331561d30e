/**
 * One outbound call's life on a simulated switch, from originate to CHANNEL_DESTROY. It fires the
 * recorded event sequences (event-templates.ts) stage by stage, with one timer per stage.
 */
import type { CarrierVerdict } from './carrier.js';
import { q850Of } from './causes.js';
import { localStamp } from './event.js';
import { CALL_SCRIPTS, CallValues, type CompiledScript, type CompiledStep } from './event-templates.js';

export type ChannelPhase = 'ringing' | 'answered' | 'ended';

export interface ChannelHost {
  fire(channel: Channel, step: CompiledStep): void;
  /** The originate's result is known: BACKGROUND_JOB for bgapi, the api/response for api. */
  completeJob(channel: Channel, result: string): void;
  answered(channel: Channel): void;
  ended(channel: Channel, cause: string): void;
  /** Real milliseconds for a sim-time delay. */
  realMs(simMs: number): number;
}

interface Hangup {
  script: CompiledScript;
  cause: string;
  sipStatus: number;
  sipPhrase: string;
  disposition: string;
}

export interface ChannelParams {
  uuid: string;
  sessionId: number;
  gateway: string;
  destination: string;
  variables: ReadonlyMap<string, string>;
  timeoutSec: number;
  appUuid: string;
}

export class Channel {
  readonly values = new CallValues();
  readonly uuid: string;
  readonly createdMs = Date.now();
  phase: ChannelPhase = 'ringing';
  private timer: NodeJS.Timeout | undefined;
  private progressed = false;
  private hangupPending = false;
  private vanished = false;
  private jobDone = false;
  private answeredUs = 0;
  private progressUs = 0;

  constructor(
    readonly params: ChannelParams,
    private readonly host: ChannelHost,
  ) {
    this.uuid = params.uuid;
    const v = this.values;
    v.set('uuid', params.uuid);
    v.set('dest', params.destination);
    v.set('cid', params.variables.get('origination_caller_id_number') ?? '0000000000');
    v.set('gw', params.gateway);
    v.set('session_id', String(params.sessionId));
    v.set('sip_call_id', `${params.uuid.slice(0, 8)}-sim-${params.sessionId}`);
    v.set('app_uuid', params.appUuid);
    v.set('created_us', String(this.createdMs * 1000));
    for (const slot of ['answered_us', 'progress_us', 'hangup_us']) v.set(slot, '0');
    v.setUserVars(params.variables);
  }

  variable(name: string): string | undefined {
    return this.params.variables.get(name);
  }

  /** Starts the call: CHANNEL_OUTGOING … CS_CONSUME_MEDIA now, the rest as the carrier decided. */
  start(verdict: CarrierVerdict): void {
    this.run(CALL_SCRIPTS.setup, '');
    const timeoutMs = this.params.timeoutSec * 1000;
    if (verdict.kind === 'refuse') {
      const { refusal } = verdict;
      this.after(verdict.afterMs, () =>
        this.hangUp({
          script: CALL_SCRIPTS.refused,
          cause: refusal.cause,
          sipStatus: refusal.status,
          sipPhrase: refusal.phrase,
          disposition: 'recv_refuse',
        }),
      );
      return;
    }
    // A live callee's 180 Ringing comes back after a tenth of the ring time (a network round
    // trip plus the far switch's routing); then the answer, or ringing until originate_timeout.
    const progressMs = (verdict.kind === 'answer' ? verdict.ringMs : timeoutMs) / 10;
    this.after(progressMs, () => {
      this.progressUs = Date.now() * 1000;
      this.values.set('progress_us', String(this.progressUs));
      this.progressed = true;
      this.run(CALL_SCRIPTS.ringing, '');
      if (verdict.kind === 'answer' && verdict.ringMs < timeoutMs) {
        this.after(verdict.ringMs - progressMs, () => this.answer(verdict.talkMs));
      } else {
        this.after(timeoutMs - progressMs, () => this.hangUp(this.cancelled('NO_ANSWER')));
      }
    });
  }

  /**
   * uuid_kill / hupall / sendmsg hangup. Returns false when the call is already gone. The hangup
   * runs on the channel's own turn, after the caller's reply, as FreeSWITCH's channel thread does
   * (fixture 21: `+OK` comes before CHANNEL_HANGUP).
   */
  kill(cause: string): boolean {
    if (this.phase === 'ended' || this.hangupPending) return false;
    this.hangupPending = true;
    clearTimeout(this.timer);
    setImmediate(() => this.hangUp(this.killed(cause)));
    return true;
  }

  /**
   * switch_core_session_hupall (fsctl shutdown): the core's thread hangs the call up, and
   * switch_channel_perform_hangup fires CHANNEL_HANGUP there and then; the channel's own thread
   * runs the rest of the hangup (UNPARK … CS_DESTROY) on its next turn, while the core goes on
   * unloading modules (fixture 90). A call still ringing is cancelled as by a kill (not recorded).
   * Returns false when the call is already gone.
   */
  hangUpFromCore(cause: string): boolean {
    if (this.phase === 'ended') return false;
    this.hangupPending = true;
    this.hangUp(this.killed(cause, CALL_SCRIPTS.shutdownAfterAnswer), 'rest on the next turn');
    return true;
  }

  /** The switch died: the call is gone without a single event. */
  vanish(): void {
    clearTimeout(this.timer);
    this.phase = 'ended';
    this.vanished = true;
  }

  /** How a call hangs up when told to: an answered one sends BYE, one still ringing CANCEL. */
  private killed(cause: string, afterAnswer: CompiledScript = CALL_SCRIPTS.killAfterAnswer): Hangup {
    if (this.phase !== 'answered') return this.cancelled(cause);
    return {
      script: afterAnswer,
      cause,
      sipStatus: 200,
      sipPhrase: 'OK',
      disposition: 'send_bye',
    };
  }

  private cancelled(cause: string): Hangup {
    return {
      script: this.progressed ? CALL_SCRIPTS.noAnswer : CALL_SCRIPTS.refused,
      cause,
      sipStatus: 487,
      sipPhrase: 'CANCEL',
      disposition: 'send_cancel',
    };
  }

  private answer(talkMs: number): void {
    this.phase = 'answered';
    this.answeredUs = Date.now() * 1000;
    this.values.set('answered_us', String(this.answeredUs));
    this.host.answered(this);
    this.run(CALL_SCRIPTS.answer, `+OK ${this.uuid}\n`);
    this.after(talkMs, () =>
      this.hangUp({
        script: CALL_SCRIPTS.remoteBye,
        cause: 'NORMAL_CLEARING',
        sipStatus: 200,
        sipPhrase: 'OK',
        disposition: 'recv_bye',
      }),
    );
  }

  private hangUp(hangup: Hangup, split?: 'rest on the next turn'): void {
    if (this.phase === 'ended') return;
    clearTimeout(this.timer);
    this.phase = 'ended';
    const endUs = Date.now() * 1000;
    const v = this.values;
    v.set('hangup_us', String(endUs));
    v.set('cause', hangup.cause);
    v.set('q850', String(q850Of(hangup.cause)));
    v.set('sip_status', String(hangup.sipStatus));
    v.set('sip_phrase', hangup.sipPhrase);
    v.set('disposition', hangup.disposition);
    this.setCdrValues(endUs);
    const jobResult = `-ERR ${hangup.cause}\n`;
    if (split === undefined) {
      this.run(hangup.script, jobResult);
      this.host.ended(this, hangup.cause);
      return;
    }
    const afterHangup =
      hangup.script.findIndex((s) => s !== 'BACKGROUND_JOB' && s.event === 'CHANNEL_HANGUP') + 1;
    this.run(hangup.script.slice(0, afterHangup), jobResult);
    setImmediate(() => {
      if (this.vanished) return;
      this.run(hangup.script.slice(afterHangup), jobResult);
      this.host.ended(this, hangup.cause);
    });
  }

  /** The CDR variables of CHANNEL_HANGUP_COMPLETE, computed as switch_channel.c does. */
  private setCdrValues(endUs: number): void {
    const v = this.values;
    const startUs = this.createdMs * 1000;
    const times: Record<string, number> = {
      start: startUs,
      profile_start: startUs,
      answer: this.answeredUs,
      progress: this.progressUs,
      end: endUs,
    };
    for (const [name, us] of Object.entries(times)) {
      v.set(`${name}_uepoch`, String(us));
      v.set(`${name}_epoch`, String(Math.floor(us / 1e6)));
      v.set(`${name}_stamp`, us ? localStamp(us / 1000) : '');
    }
    const span = (fromUs: number, toUs: number, unitNames: [string, string, string]) => {
      const has = fromUs > 0 && toUs > 0;
      v.set(unitNames[0], has ? String(Math.floor(toUs / 1e6) - Math.floor(fromUs / 1e6)) : '0');
      v.set(unitNames[1], has ? String(Math.floor(toUs / 1000) - Math.floor(fromUs / 1000)) : '0');
      v.set(unitNames[2], has ? String(toUs - fromUs) : '0');
    };
    span(startUs, endUs, ['duration', 'mduration', 'uduration']);
    span(this.answeredUs, endUs, ['billsec', 'billmsec', 'billusec']);
    span(startUs, this.progressUs, ['progresssec', 'progressmsec', 'progressusec']);
    span(startUs, this.answeredUs, ['answersec', 'answermsec', 'answerusec']);
    span(0, 0, ['waitsec', 'waitmsec', 'waitusec']);
    span(0, 0, ['progress_mediasec', 'progress_mediamsec', 'progress_mediausec']);
    span(startUs, endUs, ['flow_billsec', 'flow_billmsec', 'flow_billusec']);
  }

  private run(script: CompiledScript, jobResult: string): void {
    for (const step of script) {
      if (step === 'BACKGROUND_JOB') {
        if (!this.jobDone) {
          this.jobDone = true;
          this.host.completeJob(this, jobResult);
        }
      } else {
        this.host.fire(this, step);
      }
    }
  }

  private after(simMs: number, action: () => void): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(action, this.host.realMs(simMs));
    this.timer.unref();
  }
}
