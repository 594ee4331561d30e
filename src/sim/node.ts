/**
 * One simulated FreeSWITCH: an Event Socket listener, its calls, its limits (max-sessions and
 * sessions-per-second, enforced where switch_core_session.c enforces them) and its heartbeat.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { type ApiCommandHost, runApiCommand } from './api-commands.js';
import { API_EVENT_CALLED_FROM, apiEvent } from './api-event.js';
import { executeApplication } from './applications.js';
import { CallControl } from './call-control.js';
import type { Carrier } from './carrier.js';
import { isKnownCause } from './causes.js';
import type { ChannelReportSink } from './cdr-poster.js';
import { Channel, type ChannelHost } from './channel.js';
import { type EventOrigin, originHeaders, type SimEvent, SimpleEvent } from './event.js';
import { CALL_SCRIPTS, CallValues, ChannelEvent, type CompiledStep } from './event-templates.js';
import type { GroundTruthLog } from './ground-truth.js';
import { heartbeatEvents, type SwitchCounters } from './heartbeat.js';
import { hostsCalls, type LoadedModule, moduleUnloadEvents } from './loaded-modules.js';
import { ORIGINATE_USAGE, parseOriginate } from './originate.js';
import type { SeededRandom } from './random.js';
import { Session, type SessionHost } from './session.js';
import {
  profilesCarrying,
  SHUTDOWN_CLOSE_DELAY_MS,
  SHUTDOWN_NOTICE,
  shutdownEvent,
  sofiaShutdownEvents,
} from './shutdown.js';
import type { SofiaProfile } from './sofia-profiles.js';
import { SwitchLimits } from './switch-limits.js';

export interface SimNodeOptions {
  name: string;
  /** 0 = ephemeral. */
  port: number;
  /** Default 1000, as FreeSWITCH's vanilla config. */
  maxSessions?: number;
  /** Default 30, as FreeSWITCH's vanilla config. */
  sessionsPerSecond?: number;
}

export interface SimNodeContext {
  host: string;
  password: string;
  carriers: ReadonlyMap<string, Carrier>;
  /** What `sofia status` reports: the profiles and which gateway sits on which. */
  sofiaProfiles: readonly SofiaProfile[];
  /** What a shutdown unloads, in order (MODULE_UNLOAD events; loaded-modules.ts). */
  loadedModules: readonly LoadedModule[];
  random: SeededRandom;
  groundTruth: GroundTruthLog;
  timeScale: number;
  simStartMs: number;
  heartbeatIntervalMs: number;
  /** mod_json_cdr: told of every channel that reaches its reporting state. */
  callRecords?: ChannelReportSink;
}

/** A bgapi command in flight: its Job-UUID and the API event it fires when it returns. */
interface BackgroundJob {
  jobUuid: string;
  command: string;
  args: string;
  fireApiEvent: () => void;
}

/** A `fsctl shutdown` under way: what runs once the last call is destroyed, and the closing timer. */
interface ShutdownRun {
  onNoCalls?: () => void;
  closeTimer?: NodeJS.Timeout;
}

export class SimNodeServer implements SessionHost, ChannelHost {
  readonly name: string;
  readonly host: string;
  port: number;
  readonly password: string;
  private server: Server | undefined;
  private readonly sessions = new Set<Session>();
  private readonly channels = new Map<string, Channel>();
  private readonly limits: SwitchLimits;
  private coreUuid: string;
  private sequence = 0;
  private startedMs = Date.now();
  private nextSessionId = 1;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Heartbeats since start-up (or restart). */
  private heartbeats = 0;
  private readonly gatewayStats = new Map<string, { callsOut: number; failedCallsOut: number }>();
  /** Set from `fsctl shutdown` until the sockets close (or a crash or restart ends it). */
  private shutdownRun: ShutdownRun | undefined;
  /** Events dropped because a listener did not read (FreeSWITCH's lost_events). */
  lostEvents = 0;
  private readonly apiHost: ApiCommandHost;
  private readonly callControl = new CallControl({
    origin: (calledFrom) => this.origin(calledFrom),
    emitEvent: (event) => this.emit(event),
    newUuid: () => this.ctx.random.uuid(),
    realMs: (simMs) => this.realMs(simMs),
    isLive: (live) => this.channels.get(live.uuid) === live,
    channel: (uuid) => this.channels.get(uuid),
  });

  constructor(
    options: SimNodeOptions,
    private readonly ctx: SimNodeContext,
  ) {
    this.name = options.name;
    this.host = ctx.host;
    this.port = options.port;
    this.password = ctx.password;
    this.limits = new SwitchLimits(options.maxSessions ?? 1000, options.sessionsPerSecond ?? 30);
    this.coreUuid = ctx.random.uuid();
    for (const gateway of ctx.carriers.keys())
      this.gatewayStats.set(gateway, { callsOut: 0, failedCallsOut: 0 });
    // What the api command table (api-commands.ts) may see and do on this switch.
    this.apiHost = {
      name: this.name,
      channels: this.channels,
      limits: this.limits,
      gatewayStats: this.gatewayStats,
      sofiaProfiles: ctx.sofiaProfiles,
      callControl: this.callControl,
      startedMs: () => this.startedMs,
      counters: () => this.counters(),
      originate: (args) => this.originate(args, undefined) ?? Promise.resolve(ORIGINATE_USAGE),
      killChannel: (uuid, cause) => this.killChannel(uuid, cause),
      // The reply goes out first; the shutdown runs on the next turn, as on FreeSWITCH's core thread.
      shutdown: () => {
        setImmediate(() => this.shutdown());
      },
    };
  }

  async listen(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address !== null && typeof address === 'object') this.port = address.port;
    this.startedMs = Date.now();
    this.heartbeat = setInterval(() => this.sendHeartbeat(), this.ctx.heartbeatIntervalMs);
    this.heartbeat.unref();
  }

  activeCalls(): number {
    return this.channels.size;
  }

  /** Crash: sockets destroyed without a word, calls gone without events, listener closed. */
  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    // A crash in the middle of a shutdown ends it: nothing more is sent, nothing closes later.
    clearTimeout(this.shutdownRun?.closeTimer);
    this.shutdownRun = undefined;
    for (const channel of this.channels.values()) {
      channel.vanish();
      this.ctx.groundTruth.record({
        type: 'hangup',
        atMs: Date.now(),
        node: this.name,
        uuid: channel.uuid,
        cause: 'NODE_CRASH',
        answered: channel.phase === 'answered',
      });
    }
    this.channels.clear();
    for (const session of this.sessions) session.socket.destroy();
    this.sessions.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A restarted FreeSWITCH: same port, new Core-UUID, counters from zero. */
  async restart(): Promise<void> {
    if (this.server) await this.stop();
    this.coreUuid = this.ctx.random.uuid();
    this.limits.reset();
    this.sequence = 0;
    this.heartbeats = 0;
    await this.listen();
  }

  dropConnections(): void {
    for (const session of this.sessions) session.socket.destroy();
  }

  stallConnections(ms: number): void {
    for (const session of this.sessions) session.stall(ms);
  }

  sendGarbage(bytes: number): void {
    const garbage = Buffer.alloc(bytes);
    for (let i = 0; i < bytes; i++) garbage[i] = Math.floor(this.ctx.random.next() * 256);
    for (const session of this.sessions) session.writeRaw(garbage);
  }

  injectBytes(bytes: Buffer | string): void {
    const raw = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    for (const session of this.sessions) session.writeRaw(raw);
  }

  loseEvents(probability: number): void {
    for (const session of this.sessions) session.loseProbability = probability;
  }

  private accept(socket: Socket): void {
    this.sessions.add(new Session(socket, this));
  }

  // --- SessionHost ---

  sessionClosed(session: Session): void {
    this.sessions.delete(session);
  }

  eventLost(): void {
    this.lostEvents++;
  }

  random(): number {
    return this.ctx.random.next();
  }

  newUuid(): string {
    return this.ctx.random.uuid();
  }

  channelExists(uuid: string): boolean {
    return this.channels.has(uuid);
  }

  killChannel(uuid: string, cause: string): boolean {
    return this.channels.get(uuid)?.kill(isKnownCause(cause) ? cause : 'NORMAL_CLEARING') ?? false;
  }

  executeApplication(uuid: string, app: string, arg: string): string {
    const channel = this.channels.get(uuid);
    if (!channel) return `-ERR invalid session id [${uuid}]`;
    const outcome = executeApplication(channel, app, arg, {
      origin: (calledFrom) => this.origin(calledFrom),
      emitEvent: (event) => this.emit(event),
      newUuid: () => this.ctx.random.uuid(),
      realMs: (simMs) => this.realMs(simMs),
      isLive: (live) => this.channels.get(live.uuid) === live,
    });
    return outcome.ok ? '+OK' : outcome.reply;
  }

  api(command: string, args: string): string | Promise<string> {
    return runApiCommand(command, args, this.apiHost);
  }

  beginApiEvent(command: string, args: string): () => void {
    const event = apiEvent(this.origin(API_EVENT_CALLED_FROM), command, args);
    return () => this.emit(event);
  }

  bgapi(command: string, args: string, jobUuid: string): void {
    const job: BackgroundJob = { jobUuid, command, args, fireApiEvent: this.beginApiEvent(command, args) };
    if (command === 'originate') {
      this.originate(args, job);
      return;
    }
    // FreeSWITCH runs the job on its own thread: the result always follows the command/reply.
    setImmediate(() => {
      const result = this.api(command, args);
      if (typeof result === 'string') this.fireJob(job, result);
      else result.then((body) => this.fireJob(job, body));
    });
  }

  // --- ChannelHost ---

  fire(channel: Channel, step: CompiledStep): void {
    const event = new ChannelEvent(step, channel.values, this.origin(step.calledFrom), channel.uuid);
    this.emit(event);
    // CHANNEL_HANGUP_COMPLETE fires in the reporting state, where mod_json_cdr writes its record.
    if (step.event === 'CHANNEL_HANGUP_COMPLETE') this.ctx.callRecords?.channelReported(event);
  }

  /** Originates waiting for their result: a bgapi job, or the api/response of a blocking api. */
  private readonly pendingJobs = new Map<Channel, BackgroundJob | ((body: string) => void)>();

  completeJob(channel: Channel, result: string): void {
    const job = this.pendingJobs.get(channel);
    if (!job) return;
    this.pendingJobs.delete(channel);
    if (typeof job === 'function') job(result);
    else this.fireJob(job, result);
  }

  answered(channel: Channel): void {
    this.ctx.groundTruth.record({ type: 'answer', atMs: Date.now(), node: this.name, uuid: channel.uuid });
  }

  ended(channel: Channel, cause: string): void {
    this.channels.delete(channel.uuid);
    this.callControl.callEnded(channel.uuid);
    this.pendingJobs.delete(channel);
    const answered = channel.values.get('answered_us') !== '0';
    if (!answered) {
      const stats = this.gatewayStats.get(channel.params.gateway);
      if (stats) stats.failedCallsOut++;
    }
    this.ctx.groundTruth.record({
      type: 'hangup',
      atMs: Date.now(),
      node: this.name,
      uuid: channel.uuid,
      cause,
      answered,
    });
    const run = this.shutdownRun;
    if (this.channels.size === 0 && run?.onNoCalls) {
      const next = run.onNoCalls;
      run.onNoCalls = undefined;
      next();
    }
  }

  realMs(simMs: number): number {
    return Math.max(0, simMs * this.ctx.timeScale);
  }

  // --- internals ---

  private origin(calledFrom: readonly [string, string, string]): EventOrigin {
    return {
      coreUuid: this.coreUuid,
      hostname: this.name,
      ipv4: this.host,
      sequence: ++this.sequence,
      nowUs: Date.now() * 1000,
      calledFrom,
    };
  }

  private emit(event: SimEvent): void {
    for (const session of this.sessions) session.deliver(event);
  }

  /** The job's command returned: its API event, then BACKGROUND_JOB with the result (fixture 36). */
  private fireJob(job: BackgroundJob, body: string): void {
    job.fireApiEvent();
    const headers = originHeaders('BACKGROUND_JOB', this.origin(['mod_event_socket.c', 'api_exec', '1572']));
    headers.push(['Job-UUID', job.jobUuid], ['Job-Command', job.command]);
    if (job.args !== '') headers.push(['Job-Command-Arg', job.args]);
    this.emit(new SimpleEvent('BACKGROUND_JOB', headers, body));
  }

  /**
   * Both forms of originate. With a job (bgapi) the result goes out as BACKGROUND_JOB and
   * nothing is returned; without (api) the returned Promise resolves to the api/response body.
   */
  private originate(args: string, job: BackgroundJob | undefined): Promise<string> | undefined {
    const atMs = Date.now();
    const request = parseOriginate(args);
    const uuid = request.variables.get('origination_uuid') ?? this.ctx.random.uuid();
    const record = (accepted: boolean, gateway: string, destination: string, cause?: string) =>
      this.ctx.groundTruth.record({
        type: 'originate',
        atMs,
        node: this.name,
        gateway,
        destination,
        uuid,
        jobUuid: job?.jobUuid ?? '',
        variables: Object.fromEntries(request.variables),
        accepted,
        ...(cause === undefined ? {} : { cause }),
      });
    const finish = (body: string): Promise<string> | undefined => {
      if (job === undefined) return Promise.resolve(body);
      setImmediate(() => this.fireJob(job, body));
      return undefined;
    };
    if (request.kind === 'error') {
      record(
        false,
        request.gateway,
        request.destination,
        request.reply
          .replace(/^-(ERR|USAGE):? ?/, '')
          .split(' ')[0]
          ?.trim(),
      );
      return finish(request.reply);
    }
    // switch_core_session_outgoing_channel: no new call once the switch is shutting down.
    if (this.shutdownRun) {
      record(false, request.gateway, request.destination, 'SYSTEM_SHUTDOWN');
      return finish('-ERR SYSTEM_SHUTDOWN\n');
    }
    // switch_core_session_request_uuid: a duplicate uuid, the SPS budget or max-sessions refuse
    // the session before any channel exists; mod_sofia then reports DESTINATION_OUT_OF_ORDER.
    if (this.channels.has(uuid) || !this.limits.admit(this.channels.size)) {
      record(false, request.gateway, request.destination, 'DESTINATION_OUT_OF_ORDER');
      return finish('-ERR DESTINATION_OUT_OF_ORDER\n');
    }
    const sessionId = this.nextSessionId++;
    const carrier = this.ctx.carriers.get(request.gateway);
    if (!carrier) {
      // The session existed for a moment: FreeSWITCH fires its CHANNEL_DESTROY (fixture 60).
      const values = new CallValues();
      values.set('uuid', uuid);
      values.set('session_id', String(sessionId));
      // After the reply, as the originate thread fires them (fixture 60).
      setImmediate(() => {
        for (const step of CALL_SCRIPTS.invalidGateway) {
          if (step !== 'BACKGROUND_JOB')
            this.emit(new ChannelEvent(step, values, this.origin(step.calledFrom), uuid));
        }
      });
      record(false, request.gateway, request.destination, 'INVALID_GATEWAY');
      return finish('-ERR INVALID_GATEWAY\n');
    }
    record(true, request.gateway, request.destination);
    const stats = this.gatewayStats.get(request.gateway);
    if (stats) stats.callsOut++;
    const channel = new Channel(
      {
        uuid,
        sessionId,
        gateway: request.gateway,
        destination: request.destination,
        variables: request.variables,
        timeoutSec: request.timeoutSec,
        appUuid: this.ctx.random.uuid(),
      },
      this,
    );
    this.channels.set(uuid, channel);
    let result: Promise<string> | undefined;
    if (job === undefined) {
      result = new Promise<string>((resolve) => this.pendingJobs.set(channel, resolve));
    } else {
      this.pendingJobs.set(channel, job);
    }
    const simNowMs = (atMs - this.ctx.simStartMs) / this.ctx.timeScale;
    // The channel's first events follow the command/reply, as FreeSWITCH's originate thread does.
    const verdict = carrier.decide(simNowMs, atMs);
    setImmediate(() => {
      if (this.channels.get(uuid) === channel) channel.start(verdict);
    });
    return result;
  }

  private counters(): SwitchCounters {
    const uptimeMs = Date.now() - this.startedMs;
    return { uptimeMs, sessionCount: this.channels.size, ...this.limits.snapshot(this.channels.size) };
  }

  private sendHeartbeat(): void {
    const origin = (calledFrom: readonly [string, string, string]) => this.origin(calledFrom);
    this.heartbeats++;
    const { heartbeatIntervalMs } = this.ctx;
    for (const event of heartbeatEvents(this.counters(), origin, heartbeatIntervalMs, this.heartbeats))
      this.emit(event);
  }

  /** fsctl shutdown (shutdown.ts): events, SYSTEM_SHUTDOWN hangups, unloads, then a notice and EOF on every socket. */
  private shutdown(): void {
    if (this.shutdownRun || !this.server) return;
    const run: ShutdownRun = {};
    this.shutdownRun = run;
    clearInterval(this.heartbeat);
    const origin = (calledFrom: readonly [string, string, string]) => this.origin(calledFrom);
    this.emit(shutdownEvent(origin));
    const live = [...this.channels.values()];
    const profilesWithCalls = profilesCarrying(
      live.map((channel) => channel.params.gateway),
      this.ctx.sofiaProfiles,
    );
    for (const channel of live) channel.hangUpFromCore('SYSTEM_SHUTDOWN');
    const modules = this.ctx.loadedModules;
    // The core unloads one module after another: one whose endpoint has calls, and all after it, wait.
    const waitsForCalls = modules.findIndex(hostsCalls);
    const unloadNow = waitsForCalls === -1 || live.length === 0 ? modules : modules.slice(0, waitsForCalls);
    for (const module of unloadNow) for (const event of moduleUnloadEvents(module, origin)) this.emit(event);
    const finish = () => {
      if (this.shutdownRun !== run) return;
      for (const module of modules.slice(unloadNow.length)) {
        for (const event of moduleUnloadEvents(module, origin)) this.emit(event);
      }
      if (modules.some((module) => module.key === 'mod_sofia')) {
        for (const event of sofiaShutdownEvents(this.ctx.sofiaProfiles, profilesWithCalls, origin)) {
          this.emit(event);
        }
      }
      run.closeTimer = setTimeout(() => this.closeAfterShutdown(run), this.realMs(SHUTDOWN_CLOSE_DELAY_MS));
      run.closeTimer.unref();
    };
    // The calls' own hangups run on their next turn (Channel.hangUpFromCore); what waits on them
    // goes on when the last one is destroyed.
    if (this.channels.size === 0) finish();
    else run.onNoCalls = finish;
  }

  private closeAfterShutdown(run: ShutdownRun): void {
    if (this.shutdownRun !== run) return;
    this.shutdownRun = undefined;
    for (const session of this.sessions) {
      session.write(SHUTDOWN_NOTICE);
      session.close();
    }
    const server = this.server;
    this.server = undefined;
    server?.close();
  }
}
