/** Many simulated switches in one process, sharing carriers, a seeded generator and ground truth. */
import { Carrier } from './carrier.js';
import { CdrPoster, type CdrPosterOptions, type CdrPosterStats } from './cdr-poster.js';
import { type GroundTruth, GroundTruthLog } from './ground-truth.js';
import { VANILLA_1_10_12_MODULES } from './loaded-modules.js';
import { type SimNodeOptions, SimNodeServer } from './node.js';
import { DEFAULT_SIM_PROFILE, type SimProfile } from './profile.js';
import { SeededRandom } from './random.js';
import { defaultSofiaProfiles } from './sofia-profiles.js';

export interface SimClusterOptions {
  nodes: SimNodeOptions[];
  host?: string;
  password?: string;
  profile?: SimProfile;
  seed?: number;
  /** 1 = real time; 0.01 = ring, talk and originate timeouts 100× faster. */
  timeScale?: number;
  /** Real milliseconds between HEARTBEAT events (FreeSWITCH: 20 s). */
  heartbeatIntervalMs?: number;
  /** Append every ground-truth entry to this file as a JSON line. */
  recordPath?: string;
  /** Post a mod_json_cdr call record of every channel that ends (cdr-poster.ts). */
  callRecords?: CdrPosterOptions;
}

export interface SimNode {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  activeCalls(): number;
  /** Crash: sockets destroyed, calls vanish. */
  stop(): Promise<void>;
  /** Listen again on the same port, as a restarted FreeSWITCH. */
  restart(): Promise<void>;
  /** Fault injection: destroy every client socket now. */
  dropConnections(): void;
  /** Fault injection: hold all output for `ms`, then send it at once. */
  stallConnections(ms: number): void;
  /** Fault injection: write `bytes` random bytes to every client socket. */
  sendGarbage(bytes: number): void;
  /** Fault injection: write these exact bytes to every client socket (a truncated frame, a bad header…). */
  injectBytes(bytes: Buffer | string): void;
  /** Fault injection: each event is silently lost with this probability (seeded). */
  loseEvents(probability: number): void;
}

export interface SimCluster {
  readonly nodes: readonly SimNode[];
  readonly groundTruth: GroundTruth;
  /** What the call-record poster did, when `callRecords` is on. */
  callRecordStats(): CdrPosterStats | undefined;
  close(): Promise<void>;
}

export async function startSimCluster(options: SimClusterOptions): Promise<SimCluster> {
  const random = new SeededRandom(options.seed ?? 1);
  const profile = options.profile ?? DEFAULT_SIM_PROFILE;
  const carriers = new Map(
    Object.entries(profile.gateways).map(([name, model]) => [name, new Carrier(model, random)]),
  );
  const groundTruth = new GroundTruthLog(options.recordPath);
  const callRecords = options.callRecords ? new CdrPoster(options.callRecords) : undefined;
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0)) throw new RangeError('timeScale must be > 0');
  const context = {
    host: options.host ?? '127.0.0.1',
    password: options.password ?? 'ClueCon',
    carriers,
    sofiaProfiles: profile.sofia ?? defaultSofiaProfiles(Object.keys(profile.gateways)),
    loadedModules: profile.modules ?? VANILLA_1_10_12_MODULES,
    random,
    groundTruth,
    timeScale,
    simStartMs: Date.now(),
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 20_000,
    ...(callRecords ? { callRecords } : {}),
  };
  const nodes = options.nodes.map((node) => new SimNodeServer(node, context));
  try {
    for (const node of nodes) await node.listen();
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    await callRecords?.close(0);
    await groundTruth.close();
    throw error;
  }
  return {
    nodes,
    groundTruth,
    callRecordStats: () => callRecords?.stats(),
    async close() {
      await Promise.all(nodes.map((node) => node.stop()));
      // Records of calls that ended before the stop still go out, for a moment.
      await callRecords?.close();
      await groundTruth.close();
    },
  };
}
