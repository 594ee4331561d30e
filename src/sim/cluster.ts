/** Many simulated switches in one process, sharing carriers, a seeded generator and ground truth. */
import { Carrier } from './carrier.js';
import { type GroundTruth, GroundTruthLog } from './ground-truth.js';
import { type SimNodeOptions, SimNodeServer } from './node.js';
import { DEFAULT_SIM_PROFILE, type SimProfile } from './profile.js';
import { SeededRandom } from './random.js';

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
  close(): Promise<void>;
}

export async function startSimCluster(options: SimClusterOptions): Promise<SimCluster> {
  const random = new SeededRandom(options.seed ?? 1);
  const profile = options.profile ?? DEFAULT_SIM_PROFILE;
  const carriers = new Map(
    Object.entries(profile.gateways).map(([name, model]) => [name, new Carrier(model, random)]),
  );
  const groundTruth = new GroundTruthLog(options.recordPath);
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0)) throw new RangeError('timeScale must be > 0');
  const context = {
    host: options.host ?? '127.0.0.1',
    password: options.password ?? 'ClueCon',
    carriers,
    random,
    groundTruth,
    timeScale,
    simStartMs: Date.now(),
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 20_000,
  };
  const nodes = options.nodes.map((node) => new SimNodeServer(node, context));
  try {
    for (const node of nodes) await node.listen();
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    await groundTruth.close();
    throw error;
  }
  return {
    nodes,
    groundTruth,
    async close() {
      await Promise.all(nodes.map((node) => node.stop()));
      await groundTruth.close();
    },
  };
}
