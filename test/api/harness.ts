import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { Registry } from 'prom-client';
import { type ApiOptions, buildApi } from '../../src/api/index.js';
import { MemoryDialSlots } from '../../src/coord/memory-dial-slots.js';
import { createLogger } from '../../src/observability/logger.js';
import { PlatformMetrics } from '../../src/observability/metrics.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { NumberVault } from '../../src/security/number-vault.js';
import type { Store } from '../../src/store/contract.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';

export const ACME_KEY = 'acme-key-0123456789';
export const OTHER_KEY = 'other-key-9876543210';
export const START_MS = 1_800_000_000_000;

export interface Harness {
  app: FastifyInstance;
  store: Store;
  vault: NumberVault;
  dbPath: string;
  clock: { now: number };
  notified: string[];
  healthy: { ok: boolean };
  /** The real scheduler (not started: its worker takes no calls), behind the dispatch routes. */
  scheduler: Scheduler;
  /** inject with the acme key unless headers say otherwise */
  call(options: InjectOptions & { key?: string | null }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

let counter = 0;

/** A real SQLite store in the test file's temp dir, a fixed clock, and recorded notifications. */
export async function makeHarness(
  dir: string,
  limits?: ApiOptions['limits'],
  security?: Pick<ApiOptions, 'sessions' | 'loginThrottle' | 'trustProxy'>,
) {
  const dbPath = join(dir, `api-${process.pid}-${counter++}.db`);
  const store = openSqliteStore(dbPath);
  const vault = new NumberVault({
    activeKeyId: 'k1',
    encryptionKeys: new Map([['k1', randomBytes(32)]]),
    indexKey: randomBytes(32),
  });
  const clock = { now: START_MS };
  const notified: string[] = [];
  const healthy = { ok: true };
  const scheduler = new Scheduler({
    store,
    slots: new MemoryDialSlots(0),
    worker: { isSwitchUsable: () => false, spareCapacity: () => 1000, dial: () => {} },
    workerId: 'w1',
    clock: () => clock.now,
    logger: createLogger('silent'),
    metrics: new PlatformMetrics(),
  });
  const app = await buildApi({
    store,
    vault,
    apiKeys: [
      { key: ACME_KEY, tenantId: 'acme' },
      { key: OTHER_KEY, tenantId: 'other' },
    ],
    clock: () => clock.now,
    logger: false,
    metricsRegistry: new Registry(),
    health: async () => ({ ok: healthy.ok, details: { store: healthy.ok ? 'up' : 'down' } }),
    notify: {
      tasksSubmitted: (id) => {
        notified.push(`tasks:${id}`);
        scheduler.tasksSubmitted(id);
      },
      campaignChanged: (id) => {
        notified.push(`campaign:${id}`);
        scheduler.campaignChanged(id);
      },
      resourcesChanged: () => {
        notified.push('resources');
        scheduler.resourcesChanged();
      },
      tenantChanged: (id) => {
        notified.push(`tenant:${id}`);
        scheduler.tenantsChanged();
      },
    },
    dispatch: {
      dispatchStatus: (tenantId, campaignId) => scheduler.dispatchStatus(tenantId, campaignId),
      lineHealth: (lineId) => scheduler.lineHealth(lineId),
      setLineOverride: (lineId, override) => scheduler.setLineOverride(lineId, override),
    },
    ...(limits ? { limits } : {}),
    ...security,
  });
  const harness: Harness = {
    app,
    store,
    vault,
    dbPath,
    clock,
    notified,
    healthy,
    scheduler,
    call({ key = ACME_KEY, headers, ...rest }) {
      return app.inject({
        ...rest,
        headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...headers },
      });
    },
    async close() {
      await app.close();
      await store.close();
    },
  };
  return harness;
}

/** A switch, a gateway and a shared line, made through the API. */
export async function seedResources(
  h: Harness,
): Promise<{ switchId: string; gatewayId: string; lineId: string }> {
  const sw = await h.call({
    method: 'POST',
    url: '/v1/switches',
    payload: {
      name: 'fs1',
      eslHost: '127.0.0.1',
      eslPort: 8021,
      eslPassword: 'ClueCon',
      maxSessions: 1000,
      maxCaps: 100,
    },
  });
  const gw = await h.call({
    method: 'POST',
    url: '/v1/gateways',
    payload: { name: 'carrier-a', switchIds: [sw.json().id] },
  });
  const line = await h.call({
    method: 'POST',
    url: '/v1/lines',
    payload: { name: 'line-a', gatewayId: gw.json().id, caps: 10, maxConcurrent: 100 },
  });
  if (line.statusCode !== 201) throw new Error(`seeding failed: ${line.body}`);
  return { switchId: sw.json().id, gatewayId: gw.json().id, lineId: line.json().id };
}

export async function createCampaign(h: Harness, body: Record<string, unknown> = {}, key = ACME_KEY) {
  const response = await h.call({
    method: 'POST',
    url: '/v1/campaigns',
    key,
    payload: { name: 'Renewals', defaultRegion: 'CN', ...body },
  });
  if (response.statusCode !== 201) throw new Error(`campaign creation failed: ${response.body}`);
  return response.json() as { id: string; version: number };
}

/** Valid Chinese mobile numbers: +86138 then 8 digits. */
export function chineseMobile(n: number): string {
  return `+86138${String(n).padStart(8, '0')}`;
}
