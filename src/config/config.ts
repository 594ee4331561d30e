import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * Configuration, from (lowest to highest precedence) defaults, a JSON file named by
 * SWITCHBOARD_CONFIG, environment variables, and command-line flags. Everything is validated at
 * start; a bad value stops the process with a message naming the setting and what it expects.
 */
export const ConfigSchema = Type.Object(
  {
    dataDir: Type.String({
      minLength: 1,
      description: 'Folder for the SQLite file, keys and the bootstrap API key',
    }),
    databasePath: Type.Optional(Type.String({ minLength: 1 })),
    keyFile: Type.Optional(Type.String({ minLength: 1 })),
    dataKeys: Type.Optional(
      Type.String({ minLength: 1, description: 'k1:<base64>,k2:<base64> (first is active)' }),
    ),
    indexKey: Type.Optional(Type.String({ minLength: 1 })),
    httpHost: Type.String({ minLength: 1 }),
    httpPort: Type.Integer({ minimum: 0, maximum: 65535 }),
    apiKey: Type.Optional(
      Type.String({ minLength: 24, description: 'bootstrap API key (at least 24 characters)' }),
    ),
    tenantId: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }),
    workerId: Type.String({ pattern: '^[A-Za-z0-9]{1,32}$' }),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    ),
    capsGuardMs: Type.Integer({ minimum: 0, maximum: 500 }),
    capsToleranceMs: Type.Integer({
      minimum: 0,
      maximum: 1000,
      description: 'lateness a CAPS pace may catch up',
    }),
    maxCalls: Type.Integer({ minimum: 1, maximum: 100_000 }),
    warmupMs: Type.Integer({
      minimum: 0,
      maximum: 3_600_000,
      description: 'a switch or line that (re)joins ramps from 10 % to its full CAPS over this long',
    }),
    roles: Type.String({
      pattern: '^(api|scheduler|worker)(,(api|scheduler|worker))*$',
      description: 'comma-separated roles this process runs: api, scheduler, worker',
    }),
    databaseUrl: Type.Optional(
      Type.String({
        pattern: '^postgres(ql)?://',
        description: 'PostgreSQL connection URL (postgres://…); unset: the embedded SQLite file',
      }),
    ),
    databaseSchema: Type.Optional(
      Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$', description: 'PostgreSQL schema (default public)' }),
    ),
    redisUrl: Type.Optional(
      Type.String({
        pattern: '^rediss?://',
        description: 'Redis URL (redis://…) for cluster coordination; unset: in-process coordination',
      }),
    ),
    redisNamespace: Type.String({
      pattern: '^[A-Za-z0-9_-]{1,64}$',
      description: 'prefix of every Redis key (several clusters can share one Redis)',
    }),
    leaderTtlMs: Type.Integer({
      minimum: 500,
      maximum: 60_000,
      description:
        "the scheduler leader lease; a standby takes over this long after the leader's last renewal",
    }),
    switchProbeMs: Type.Integer({
      minimum: 1_000,
      maximum: 600_000,
      description: 'each worker sends `api status` to each switch this often; no answer → the link is down',
    }),
    callRecordWaitMs: Type.Integer({
      minimum: 0,
      maximum: 3_600_000,
      description:
        "recovery: how long a call gone from its switch waits for the switch's call record before it ends unknown (cover mod_json_cdr retries × delay)",
    }),
    apiRatePerSecond: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      description: 'API requests per second per key (or console user), refilled into its bucket',
    }),
    apiRateBurst: Type.Integer({
      minimum: 1,
      maximum: 10_000_000,
      description: 'API requests a key may make at once before the per-second rate applies',
    }),
    loginAccountThreshold: Type.Integer({
      minimum: 1,
      maximum: 1_000,
      description:
        'failed logins per account within 15 min before each further one locks it for a growing delay',
    }),
    loginAddressThreshold: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      description: 'failed logins per source address within 15 min before it is locked likewise',
    }),
    trustProxy: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'comma-separated addresses/CIDRs of TLS-terminating proxies whose X-Forwarded-* headers are believed',
      }),
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'invalid_config';
}

export const DEFAULT_CONFIG: Config = {
  dataDir: './data',
  httpHost: '127.0.0.1',
  httpPort: 8080,
  tenantId: 'default',
  workerId: 'main',
  logLevel: 'info',
  capsGuardMs: 10,
  capsToleranceMs: 50,
  warmupMs: 30_000,
  maxCalls: 5_000,
  roles: 'api,scheduler,worker',
  redisNamespace: 'switchboard',
  leaderTtlMs: 2_000,
  switchProbeMs: 10_000,
  callRecordWaitMs: 60_000,
  apiRatePerSecond: 100,
  apiRateBurst: 500,
  loginAccountThreshold: 5,
  loginAddressThreshold: 20,
};

/** Environment variable → setting. */
const ENVIRONMENT: Record<string, keyof Config> = {
  SWITCHBOARD_DATA_DIR: 'dataDir',
  SWITCHBOARD_DATABASE: 'databasePath',
  SWITCHBOARD_KEY_FILE: 'keyFile',
  SWITCHBOARD_DATA_KEYS: 'dataKeys',
  SWITCHBOARD_INDEX_KEY: 'indexKey',
  SWITCHBOARD_HTTP_HOST: 'httpHost',
  SWITCHBOARD_HTTP_PORT: 'httpPort',
  SWITCHBOARD_API_KEY: 'apiKey',
  SWITCHBOARD_TENANT: 'tenantId',
  SWITCHBOARD_WORKER_ID: 'workerId',
  SWITCHBOARD_LOG_LEVEL: 'logLevel',
  SWITCHBOARD_CAPS_GUARD_MS: 'capsGuardMs',
  SWITCHBOARD_CAPS_TOLERANCE_MS: 'capsToleranceMs',
  SWITCHBOARD_MAX_CALLS: 'maxCalls',
  SWITCHBOARD_WARMUP_MS: 'warmupMs',
  SWITCHBOARD_TRUST_PROXY: 'trustProxy',
  SWITCHBOARD_ROLES: 'roles',
  SWITCHBOARD_DATABASE_URL: 'databaseUrl',
  SWITCHBOARD_DATABASE_SCHEMA: 'databaseSchema',
  SWITCHBOARD_REDIS_URL: 'redisUrl',
  SWITCHBOARD_REDIS_NAMESPACE: 'redisNamespace',
  SWITCHBOARD_LEADER_TTL_MS: 'leaderTtlMs',
  SWITCHBOARD_SWITCH_PROBE_MS: 'switchProbeMs',
  SWITCHBOARD_CALL_RECORD_WAIT_MS: 'callRecordWaitMs',
  SWITCHBOARD_API_RATE_PER_SECOND: 'apiRatePerSecond',
  SWITCHBOARD_API_RATE_BURST: 'apiRateBurst',
  SWITCHBOARD_LOGIN_ACCOUNT_THRESHOLD: 'loginAccountThreshold',
  SWITCHBOARD_LOGIN_ADDRESS_THRESHOLD: 'loginAddressThreshold',
};

export const CONFIG_ENVIRONMENT_VARIABLES = Object.keys(ENVIRONMENT);

const NUMERIC: ReadonlySet<keyof Config> = new Set([
  'httpPort',
  'capsGuardMs',
  'capsToleranceMs',
  'warmupMs',
  'maxCalls',
  'leaderTtlMs',
  'switchProbeMs',
  'callRecordWaitMs',
  'apiRatePerSecond',
  'apiRateBurst',
  'loginAccountThreshold',
  'loginAddressThreshold',
]);

function settingName(key: string): string {
  const variable = Object.entries(ENVIRONMENT).find(([, k]) => k === key)?.[0];
  return variable ? `${key} (${variable})` : key;
}

export function loadConfig(
  env: NodeJS.ProcessEnv,
  overrides: Partial<Record<keyof Config, unknown>> = {},
): Config {
  let fromFile: Record<string, unknown> = {};
  if (env.SWITCHBOARD_CONFIG) {
    try {
      fromFile = JSON.parse(readFileSync(env.SWITCHBOARD_CONFIG, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`SWITCHBOARD_CONFIG: cannot read ${env.SWITCHBOARD_CONFIG} as JSON`, {
        cause: error,
      });
    }
    if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) {
      throw new ConfigError('SWITCHBOARD_CONFIG: the file must hold a JSON object');
    }
  }
  const fromEnv: Record<string, unknown> = {};
  for (const [variable, key] of Object.entries(ENVIRONMENT)) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    fromEnv[key] = NUMERIC.has(key) && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const merged = { ...DEFAULT_CONFIG, ...fromFile, ...fromEnv, ...defined };
  if (!Value.Check(ConfigSchema, merged)) {
    const problems = [...Value.Errors(ConfigSchema, merged)].map((e) => {
      const key = e.path.replace(/^\//, '');
      return key ? `${settingName(key)}: ${e.message}` : e.message;
    });
    throw new ConfigError(`invalid configuration:\n  - ${[...new Set(problems)].join('\n  - ')}`);
  }
  const roles = rolesOf(merged);
  if (merged.redisUrl && !merged.databaseUrl) {
    throw new ConfigError(
      'invalid configuration:\n  - redisUrl (SWITCHBOARD_REDIS_URL) needs databaseUrl (SWITCHBOARD_DATABASE_URL): processes that coordinate must share one PostgreSQL',
    );
  }
  if (roles.size < 3 && !(merged.redisUrl && merged.databaseUrl)) {
    throw new ConfigError(
      `invalid configuration:\n  - roles (SWITCHBOARD_ROLES): running only ${[...roles].join(',')} needs the cluster: set databaseUrl (SWITCHBOARD_DATABASE_URL) and redisUrl (SWITCHBOARD_REDIS_URL)`,
    );
  }
  return merged;
}

export type Role = 'api' | 'scheduler' | 'worker';

/** The roles this process runs. */
export function rolesOf(config: Pick<Config, 'roles'>): ReadonlySet<Role> {
  return new Set(config.roles.split(',') as Role[]);
}

/** Cluster mode: PostgreSQL and Redis shared by many processes, each running some roles. */
export function isCluster(config: Pick<Config, 'redisUrl'>): boolean {
  return config.redisUrl !== undefined;
}

export function resolvedPaths(config: Config): { databasePath: string; keyFile: string; apiKeyFile: string } {
  const dataDir = resolve(config.dataDir);
  return {
    databasePath: resolve(config.databasePath ?? join(dataDir, 'switchboard.db')),
    keyFile: resolve(config.keyFile ?? join(dataDir, 'keys.json')),
    apiKeyFile: join(dataDir, 'api-key'),
  };
}
