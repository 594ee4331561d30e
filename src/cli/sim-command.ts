import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type CdrEncode,
  type CdrPosterOptions,
  DEFAULT_SIM_PROFILE,
  parseSimProfile,
  startSimCluster,
} from '../sim/index.js';

const HELP = `switchboard sim — a FreeSWITCH Event Socket simulator

Usage: switchboard sim [options]

  --nodes <n>           Simulated switches in this process        (default 1)
  --port <p>            Port of the first node; the others follow  (default 8021; 0 = any free)
  --base-port <p>       Same as --port
  --host <addr>         Listen address                             (default 127.0.0.1)
  --password <pw>       Event Socket password                      (default ClueCon)
  --profile <file>      Carrier profile (JSON); default: carrier1..carrier3
  --seed <n>            Random seed, for reproducible runs         (default 1)
  --time-scale <x>      Multiplies ring and talk times (0.1 = 10× faster) (default 1)
  --max-sessions <n>    FreeSWITCH max-sessions per node           (default 1000)
  --sps <n>             FreeSWITCH sessions-per-second per node    (default 30)
  --heartbeat-ms <n>    HEARTBEAT interval                         (default 20000)
  --record <file>       Append every originate, answer and hang-up as JSON lines
  --cdr-url <url>       POST a mod_json_cdr call record of every call that ends to this URL,
                        e.g. http://127.0.0.1:8080/internal/v1/cdr
  --cdr-cred <u:pw>     Its credentials, sent as HTTP Basic (mod_json_cdr's cred); better in
                        SWITCHBOARD_SIM_CDR_CRED, out of the process list. Switchboard takes
                        any user name and a service token as the password
  --cdr-encode <e>      json | form | base64: mod_json_cdr's encode=false|true|base64 (default json)
  --cdr-retries <n>     Retries of a failed post, with doubling delays from 1 s (default 5)
`;

const CDR_ENCODINGS: readonly CdrEncode[] = ['json', 'form', 'base64'];

function cdrOptions(values: {
  'cdr-url'?: string | undefined;
  'cdr-cred'?: string | undefined;
  'cdr-encode'?: string | undefined;
  'cdr-retries'?: string | undefined;
}): CdrPosterOptions | undefined {
  const url = values['cdr-url'];
  if (url === undefined) {
    if (values['cdr-cred'] || values['cdr-encode'] || values['cdr-retries']) {
      throw new TypeError('--cdr-cred, --cdr-encode and --cdr-retries need --cdr-url');
    }
    return undefined;
  }
  const encode = values['cdr-encode'] ?? 'json';
  if (!(CDR_ENCODINGS as readonly string[]).includes(encode)) {
    throw new TypeError(`--cdr-encode must be one of ${CDR_ENCODINGS.join(', ')}, got "${encode}"`);
  }
  const credentials = values['cdr-cred'] ?? process.env.SWITCHBOARD_SIM_CDR_CRED;
  if (credentials !== undefined && !credentials.includes(':')) {
    throw new TypeError('the CDR credentials must be "user:password"');
  }
  return {
    url,
    encode: encode as CdrEncode,
    retries: Math.floor(positive('cdr-retries', values['cdr-retries'], 5, true)),
    ...(credentials ? { credentials } : {}),
  };
}

function positive(name: string, text: string | undefined, fallback: number, allowZero = false): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new TypeError(
      `--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${text}"`,
    );
  }
  return value;
}

export async function runSim(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      nodes: { type: 'string' },
      port: { type: 'string' },
      'base-port': { type: 'string' },
      host: { type: 'string' },
      password: { type: 'string' },
      profile: { type: 'string' },
      seed: { type: 'string' },
      'time-scale': { type: 'string' },
      'max-sessions': { type: 'string' },
      sps: { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      record: { type: 'string' },
      'cdr-url': { type: 'string' },
      'cdr-cred': { type: 'string' },
      'cdr-encode': { type: 'string' },
      'cdr-retries': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const nodes = Math.floor(positive('nodes', values.nodes, 1));
  const basePort = Math.floor(positive('port', values['base-port'] ?? values.port, 8021, true));
  const maxSessions = Math.floor(positive('max-sessions', values['max-sessions'], 1000));
  const sessionsPerSecond = Math.floor(positive('sps', values.sps, 30));
  const profile = values.profile
    ? parseSimProfile(JSON.parse(readFileSync(values.profile, 'utf8')))
    : DEFAULT_SIM_PROFILE;
  const callRecords = cdrOptions(values);
  const cluster = await startSimCluster({
    nodes: Array.from({ length: nodes }, (_, i) => ({
      name: `sim-${i + 1}`,
      port: basePort === 0 ? 0 : basePort + i,
      maxSessions,
      sessionsPerSecond,
    })),
    profile,
    seed: Math.floor(positive('seed', values.seed, 1, true)),
    timeScale: positive('time-scale', values['time-scale'], 1),
    heartbeatIntervalMs: positive('heartbeat-ms', values['heartbeat-ms'], 20_000),
    ...(values.host ? { host: values.host } : {}),
    ...(values.password ? { password: values.password } : {}),
    ...(values.record ? { recordPath: values.record } : {}),
    ...(callRecords ? { callRecords } : {}),
  });
  // One line per node, machine-readable, so a test or a script can find the ports.
  for (const node of cluster.nodes)
    process.stdout.write(`sim node ${node.name} listening on ${node.host}:${node.port}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await cluster.close();
  return 0;
}
