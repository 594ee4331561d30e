import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApi } from '../api/index.js';
import { type Config, resolvedPaths } from '../config/config.js';
import { MemoryDialSlots } from '../coord/memory-dial-slots.js';
import { PlatformMetrics } from '../observability/metrics.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { loadOrCreateApiKey } from '../security/api-key-file.js';
import type { NumberVault } from '../security/number-vault.js';
import type { Store } from '../store/contract.js';
import { CallRecovery } from '../worker/recovery.js';
import { Worker } from '../worker/worker.js';
import { apiPolicies } from './api-policies.js';
import { openStore, openVault, switchEndpoints } from './resources.js';

/** How often the embedded scheduler checks its in-flight calls against the store (cluster: 2 s). */
const EMBEDDED_RECONCILE_MS = 30_000;

export interface PlatformOptions {
  config: Config;
  logger: Logger;
  clock?: () => number;
  /** How long start-up waits for switches before dispatching anyway (the down ones are skipped). */
  switchWaitMs?: number;
}

export interface Platform {
  readonly url: string;
  readonly apiKey: string;
  readonly tenantId: string;
  readonly store: Store;
  readonly vault: NumberVault;
  readonly scheduler: Scheduler;
  readonly worker: Worker;
  readonly metrics: PlatformMetrics;
  /** Re-reads switches from the store and connects to new ones. */
  refreshSwitches(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The embedded platform: api + scheduler + worker in one process on one SQLite file (the
 * default of ARCHITECTURE.md). Start order matters for "never ring twice": the worker connects
 * and takes over the calls a previous run left open (re-holding their slots) before the
 * scheduler hands out anything new.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const { config, logger } = options;
  const clock = options.clock ?? Date.now;
  const paths = resolvedPaths(config);
  const vault = openVault(config);
  const store = await openStore(config);
  await store.tenants.ensure({ id: config.tenantId, name: config.tenantId }, clock());
  const apiKey = config.apiKey ?? loadOrCreateApiKey(paths.apiKeyFile);
  const metrics = new PlatformMetrics({ defaultMetrics: true });
  const slots = new MemoryDialSlots(config.capsGuardMs, config.capsToleranceMs);

  let scheduler: Scheduler | undefined;
  const worker = new Worker({
    workerId: config.workerId,
    store,
    vault,
    clock,
    logger,
    metrics,
    maxCalls: config.maxCalls,
    switchProbeMs: config.switchProbeMs,
    onAttemptEnded: (end) => scheduler?.attemptEnded(end),
    onTasksMoved: (campaignId) => scheduler?.tasksSubmitted(campaignId),
    onAttemptSent: (attemptId, atMs) => scheduler?.attemptSent(attemptId, atMs),
    onAttemptAnswered: (attemptId, route) => scheduler?.attemptAnswered(attemptId, route),
    onSwitchState: (switchId, usable) => scheduler?.switchStateChanged(switchId, usable),
    onSwitchLoad: (switchId, load) => scheduler?.switchLoadReported(switchId, load),
  });
  scheduler = new Scheduler({
    store,
    slots,
    worker,
    workerId: config.workerId,
    clock,
    logger,
    metrics,
    warmupMs: config.warmupMs,
    // One process: the worker tells the scheduler of every end in-process, so no word is lost on
    // a bus; the check against the store is a safety net here, and its synchronous SQLite read
    // of every open attempt is kept off the hot path's every other second.
    reconcileMs: EMBEDDED_RECONCILE_MS,
  });
  const readyScheduler = scheduler;

  const refreshSwitches = async (): Promise<void> => {
    worker.setSwitches(await switchEndpoints(store, vault));
  };
  await refreshSwitches();
  const down = await worker.waitForSwitches(options.switchWaitMs ?? 5_000);
  if (down.length > 0)
    logger.warn({ switches: down }, 'switches not reachable at start; dispatching to the others');
  await readyScheduler.prepare();
  for (const sw of await store.resources.listSwitches()) {
    readyScheduler.switchStateChanged(sw.id, worker.isSwitchUsable(sw.id));
  }
  const recovery = new CallRecovery({
    store,
    worker,
    hooks: readyScheduler,
    logger,
    clock,
    callRecords: store.callRecords,
    callRecordWaitMs: config.callRecordWaitMs,
  });
  await recovery.recover();
  readyScheduler.start();

  let api: FastifyInstance;
  try {
    api = await buildApi({
      store,
      vault,
      apiKeys: [{ key: apiKey, tenantId: config.tenantId }],
      ...(config.trustProxy ? { trustProxy: config.trustProxy.split(',').map((p) => p.trim()) } : {}),
      clock,
      logger: logger.child({ part: 'api' }),
      metricsRegistry: metrics.registry,
      ...apiPolicies(config),
      dispatch: {
        dispatchStatus: (tenantId, campaignId) => readyScheduler.dispatchStatus(tenantId, campaignId),
        lineHealth: (lineId) => readyScheduler.lineHealth(lineId),
        setLineOverride: (lineId, override) => readyScheduler.setLineOverride(lineId, override),
      },
      health: async () => {
        const switches = await store.resources.listSwitches();
        const ready = switches.filter((s) => worker.isSwitchUsable(s.id)).map((s) => s.name);
        return {
          ok: true,
          details: {
            switchesReady: ready,
            switchesConfigured: switches.length,
            activeCalls: worker.activeCalls,
          },
        };
      },
      notify: {
        tasksSubmitted: (campaignId) => readyScheduler.tasksSubmitted(campaignId),
        campaignChanged: (campaignId) => readyScheduler.campaignChanged(campaignId),
        tenantChanged: () => readyScheduler.tenantsChanged(),
        resourcesChanged: () => {
          readyScheduler.resourcesChanged();
          void refreshSwitches().catch((error: unknown) =>
            logger.error({ err: error }, 'reloading switches failed'),
          );
        },
      },
    });
    await api.listen({ host: config.httpHost, port: config.httpPort });
  } catch (error) {
    await readyScheduler.stop();
    await recovery.stop();
    await worker.stop();
    await store.close();
    throw error;
  }
  const address = api.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  const url = `http://${config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost}:${port}`;

  return {
    url,
    apiKey,
    tenantId: config.tenantId,
    store,
    vault,
    scheduler: readyScheduler,
    worker,
    metrics,
    refreshSwitches,
    async stop() {
      await api.close();
      await readyScheduler.stop();
      await recovery.stop();
      await worker.stop();
      await store.close();
    },
  };
}
