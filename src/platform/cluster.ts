import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApi } from '../api/index.js';
import { clusterDispatchView, clusterNotifier } from '../cluster/api-bridge.js';
import { LostOrderAudit } from '../cluster/lost-order-audit.js';
import { SCHEDULER_SCOPE, SchedulerNode } from '../cluster/scheduler-node.js';
import { WorkerNode } from '../cluster/worker-node.js';
import { type Config, rolesOf } from '../config/config.js';
import type { Coordination } from '../coord/cluster-contract.js';
import { PlatformMetrics } from '../observability/metrics.js';
import type { OpenAttempt, Store } from '../store/contract.js';
import { Adoptions } from '../worker/adoptions.js';
import { Worker } from '../worker/worker.js';
import { apiPolicies } from './api-policies.js';
import { openCoordination, openStore, openVault, switchEndpoints } from './resources.js';

export interface ClusterNodeOptions {
  config: Config;
  logger: Logger;
  clock?: () => number;
  /** Given by in-process tests (memory coordination, a shared store); otherwise opened from config. */
  coord?: Coordination;
  store?: Store;
  /** The bootstrap API key of an api process (default: config.apiKey, else none). */
  apiKey?: string;
}

export interface ClusterNode {
  /** Where this process serves HTTP: the API for an api process, /healthz and /metrics for others. */
  readonly url: string;
  readonly store: Store;
  readonly coord: Coordination;
  readonly worker?: Worker;
  readonly workerNode?: WorkerNode;
  readonly scheduler?: SchedulerNode;
  stop(): Promise<void>;
}

/**
 * One process of a cluster (docs/cluster.md): PostgreSQL for records, Redis for coordination, and
 * any subset of the roles. Many api processes serve the same API; the scheduler processes elect
 * one leader (the others wait as standbys); each worker process holds links to every switch and
 * places the calls the leader hands it.
 */
export async function startClusterNode(options: ClusterNodeOptions): Promise<ClusterNode> {
  const { config, logger } = options;
  const clock = options.clock ?? Date.now;
  const roles = rolesOf(config);
  const vault = openVault(config);
  const store = options.store ?? (await openStore(config));
  const coord = options.coord ?? (await openCoordination(config));
  const metrics = new PlatformMetrics({ defaultMetrics: true });
  const stops: Array<() => Promise<void>> = [];

  let worker: Worker | undefined;
  let workerNode: WorkerNode | undefined;
  let schedulerNode: SchedulerNode | undefined;
  try {
    if (roles.has('worker')) {
      const workerId = config.workerId;
      let node: WorkerNode | undefined;
      const w = new Worker({
        workerId,
        store,
        vault,
        clock,
        logger,
        metrics,
        maxCalls: config.maxCalls,
        switchProbeMs: config.switchProbeMs,
        onAttemptEnded: (end) => node?.report({ kind: 'ended', workerId, ...end }),
        onTasksMoved: (campaignId) => node?.report({ kind: 'moved', workerId, campaignId }),
        onAttemptSent: (attemptId, atMs) => node?.report({ kind: 'sent', workerId, attemptId, atMs }),
        onAttemptAnswered: (attemptId, route) =>
          node?.report({ kind: 'answered', workerId, attemptId, ...route }),
        onSwitchState: (switchId, usable) => node?.switchChanged(switchId, usable),
        onSwitchLoad: (switchId, load) => node?.report({ kind: 'load', workerId, switchId, load }),
      });
      const refreshSwitches = async () => w.setSwitches(await switchEndpoints(store, vault));
      node = new WorkerNode({
        worker: w,
        coord,
        clock,
        logger: logger.child({ part: 'worker' }),
        refreshSwitches,
        adopt: (fromWorkerId) => adopt(fromWorkerId),
      });
      const adoptions = new Adoptions({
        store,
        worker: w,
        logger,
        callRecords: store.callRecords,
        callRecordWaitMs: config.callRecordWaitMs,
        clock,
        // Settled from a call record: the leader frees its slots as for any ended call.
        hooks: {
          adoptCall: () => {},
          attemptEnded: (end) => node?.report({ kind: 'ended', workerId, ...end }),
          tasksSubmitted: (campaignId) => node?.report({ kind: 'moved', workerId, campaignId }),
        },
      });
      const adopt = (fromWorkerId: string, only?: (attempt: OpenAttempt) => boolean) =>
        adoptions.adopt(fromWorkerId, only);
      // Before anything touches this worker's calls: no other live process may hold its id.
      await node.ensureIdFree();
      await refreshSwitches();
      await w.waitForSwitches(5_000);
      // Calls a previous run of this worker left open are followed again before anything new.
      await adopt(workerId);
      await node.start();
      worker = w;
      workerNode = node;
      const lostOrders = new LostOrderAudit(store, w, clock, logger, (only) => adopt(workerId, only));
      stops.push(async () => {
        await lostOrders.stop();
        await node.stop();
        await adoptions.stop();
        await w.stop();
      });
    }
    if (roles.has('scheduler')) {
      const holderId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
      schedulerNode = new SchedulerNode({
        store,
        coord,
        holderId,
        leaderTtlMs: config.leaderTtlMs,
        clock,
        logger,
        metrics,
        capsGuardMs: config.capsGuardMs,
        capsToleranceMs: config.capsToleranceMs,
        warmupMs: config.warmupMs,
      });
      schedulerNode.start();
      const s = schedulerNode;
      stops.push(() => s.stop());
    }

    const health = async () => {
      const workers = await coord.members.live('worker');
      const leader = await coord.leader.current(SCHEDULER_SCOPE);
      return {
        ok: true,
        details: {
          roles: [...roles],
          leader: leader ? { token: leader.token } : null,
          isLeader: schedulerNode?.isLeader ?? false,
          liveWorkers: workers.length,
          ...(worker ? { activeCalls: worker.activeCalls } : {}),
        },
      };
    };
    let http: FastifyInstance;
    if (roles.has('api')) {
      const apiKey = options.apiKey ?? config.apiKey;
      http = await buildApi({
        store,
        vault,
        apiKeys: apiKey ? [{ key: apiKey, tenantId: config.tenantId }] : [],
        ...(config.trustProxy ? { trustProxy: config.trustProxy.split(',').map((p) => p.trim()) } : {}),
        clock,
        logger: logger.child({ part: 'api' }),
        metricsRegistry: metrics.registry,
        dispatch: clusterDispatchView(coord),
        // The rate limit and the login throttle count across every api process (docs/security.md).
        rateLimits: coord.limits,
        ...apiPolicies(config),
        health,
        notify: clusterNotifier(coord, (error) =>
          logger.error({ err: error }, 'notifying the scheduler failed'),
        ),
      });
      await store.tenants.ensure({ id: config.tenantId, name: config.tenantId }, clock());
    } else {
      http = Fastify({ logger: false });
      http.get('/healthz', async (_request, reply) => reply.send(await health()));
      http.get('/metrics', async (_request, reply) =>
        reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
      );
    }
    await http.listen({ host: config.httpHost, port: config.httpPort });
    stops.unshift(() => http.close());
    const address = http.server.address();
    const port = typeof address === 'object' && address ? address.port : config.httpPort;
    const url = `http://${config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost}:${port}`;
    return {
      url,
      store,
      coord,
      ...(worker ? { worker } : {}),
      ...(workerNode ? { workerNode } : {}),
      ...(schedulerNode ? { scheduler: schedulerNode } : {}),
      async stop() {
        for (const stop of stops)
          await stop().catch((error: unknown) => logger.error({ err: error }, 'stopping'));
        if (!options.coord) await coord.close();
        if (!options.store) await store.close();
      },
    };
  } catch (error) {
    for (const stop of stops) await stop().catch(() => {});
    if (!options.coord) await coord.close();
    if (!options.store) await store.close();
    throw error;
  }
}
