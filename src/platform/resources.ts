import { type Config, resolvedPaths } from '../config/config.js';
import type { Coordination } from '../coord/cluster-contract.js';
import { keysFromEnvironment, loadOrCreateKeyFile, NumberVault } from '../security/number-vault.js';
import type { Store } from '../store/contract.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { SwitchEndpoint } from '../worker/switch-link.js';

/** The number vault: keys from the environment, else the key file in the data folder. */
export function openVault(config: Config): NumberVault {
  return new NumberVault(
    config.dataKeys && config.indexKey
      ? keysFromEnvironment(config.dataKeys, config.indexKey)
      : loadOrCreateKeyFile(resolvedPaths(config).keyFile),
  );
}

/** PostgreSQL when `databaseUrl` is set, else the embedded SQLite file; created and migrated. */
export async function openStore(config: Config): Promise<Store> {
  if (config.databaseUrl) {
    const { openPostgresStore } = await import('../store/postgres/index.js');
    return openPostgresStore({
      url: config.databaseUrl,
      ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
    });
  }
  return openSqliteStore(resolvedPaths(config).databasePath, { backgroundCheckpoints: true });
}

/** Redis coordination for a cluster (`redisUrl` must be set). */
export async function openCoordination(config: Config): Promise<Coordination> {
  if (!config.redisUrl) throw new Error('cluster coordination needs redisUrl (SWITCHBOARD_REDIS_URL)');
  const { createRedisCoordination } = await import('../coord/redis-coordination.js');
  return createRedisCoordination({ url: config.redisUrl, namespace: config.redisNamespace });
}

/** The enabled switches, with their ESL passwords opened for the worker's links. */
export async function switchEndpoints(store: Store, vault: NumberVault): Promise<SwitchEndpoint[]> {
  return (await store.resources.listSwitches())
    .filter((s) => s.enabled)
    .map((s) => ({
      id: s.id,
      name: s.name,
      host: s.eslHost,
      port: s.eslPort,
      password: vault.decrypt(s.eslPasswordSealed),
    }));
}
