import { parseArgs } from 'node:util';
import {
  CONFIG_ENVIRONMENT_VARIABLES,
  type Config,
  ConfigError,
  isCluster,
  loadConfig,
  resolvedPaths,
} from '../config/config.js';
import { createLogger } from '../observability/logger.js';
import { startClusterNode } from '../platform/cluster.js';
import { startDemo } from '../platform/demo.js';
import { startPlatform } from '../platform/platform.js';
import { openStore } from '../platform/resources.js';
import { runSecurityCommand, SECURITY_COMMANDS, SECURITY_HELP } from './security-commands.js';
import { runSim } from './sim-command.js';

const HELP = `switchboard — outbound calling and callbacks on FreeSWITCH

Usage: switchboard <command> [options]

Commands:
  start     Run the platform (API + scheduler + worker) on its SQLite file, against the
            switches configured through the API (POST /v1/switches). With
            SWITCHBOARD_DATABASE_URL and SWITCHBOARD_REDIS_URL set, this process joins a
            cluster and runs the roles named by --role (docs/cluster.md).
  demo      The platform plus two simulated FreeSWITCH nodes and two sample campaigns;
            calls flow at once (this is what \`npm start\` runs). Data: <data-dir>/demo, wiped.
  sim       Run the FreeSWITCH Event Socket simulator alone (see \`switchboard sim --help\`).
  migrate   Create or upgrade the database, then exit.
${SECURITY_HELP}
Options for start, demo and migrate:
  --host <addr>      HTTP listen address        (SWITCHBOARD_HTTP_HOST, default 127.0.0.1)
  --port <n>         HTTP port                  (SWITCHBOARD_HTTP_PORT, default 8080)
  --data-dir <dir>   Data folder                (SWITCHBOARD_DATA_DIR, default ./data)
  --log-level <lvl>  fatal|error|warn|info|debug (SWITCHBOARD_LOG_LEVEL, default info)
  --role <list>      api,scheduler,worker — any subset (SWITCHBOARD_ROLES, default all)
  --worker-id <id>   this worker's tag on its calls; unique per worker process
                     (SWITCHBOARD_WORKER_ID, default main)
  -h, --help         This text

Configuration is read from SWITCHBOARD_CONFIG (a JSON file), then the environment
(${CONFIG_ENVIRONMENT_VARIABLES.join(', ')}), then these flags; see README.md.
`;

function configFrom(values: Record<string, string | boolean | undefined>): Config {
  const port = values.port === undefined ? undefined : Number(values.port);
  return loadConfig(process.env, {
    httpHost: values.host,
    httpPort: port,
    dataDir: values['data-dir'],
    logLevel: values['log-level'],
    roles: values.role,
    workerId: values['worker-id'],
  });
}

function signalled(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'sim') return runSim(rest);
  if (command !== undefined && SECURITY_COMMANDS.has(command)) {
    return runSecurityCommand(command, rest, (line) => process.stdout.write(`${line}\n`));
  }
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(HELP);
    return command ? 0 : 1;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'log-level': { type: 'string' },
      role: { type: 'string' },
      'worker-id': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const config = configFrom(values);
  const logger = createLogger(config.logLevel, command === 'demo' ? process.stderr : process.stdout);

  if (command === 'migrate') {
    const store = await openStore(config);
    await store.close();
    const where = config.databaseUrl
      ? `PostgreSQL schema ${config.databaseSchema ?? 'public'}`
      : resolvedPaths(config).databasePath;
    process.stdout.write(`database ready: ${where}\n`);
    return 0;
  }
  if (command !== 'start' && command !== 'demo') {
    process.stderr.write(`unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  if (command === 'start' && isCluster(config)) {
    const node = await startClusterNode({ config, logger });
    logger.info(
      { url: node.url, roles: config.roles, workerId: config.workerId },
      'switchboard cluster node started',
    );
    await signalled();
    logger.info('stopping');
    await node.stop();
    return 0;
  }
  const running =
    command === 'demo'
      ? await startDemo({ config: { ...config, logLevel: config.logLevel }, logger })
      : { platform: await startPlatform({ config, logger }) };
  const platform = 'platform' in running ? running.platform : undefined;
  if (command === 'start' && platform) {
    logger.info(
      { url: platform.url, docs: `${platform.url}/docs`, metrics: `${platform.url}/metrics` },
      'switchboard started',
    );
  }
  await signalled();
  logger.info('stopping');
  if ('stop' in running) await running.stop();
  else await running.platform.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (
      error instanceof ConfigError ||
      (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
    ) {
      process.stderr.write(`switchboard: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(
      `switchboard: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
