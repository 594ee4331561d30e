import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { DEFAULT_SIM_PROFILE, type SimCluster, startSimCluster } from '../sim/index.js';
import { ApiClient } from './api-client.js';
import { type Platform, startPlatform } from './platform.js';

export interface DemoOptions {
  config: Config;
  logger: Logger;
  /** Tasks per sample campaign. */
  tasksPerCampaign?: number;
  /** Simulated ring and talk times are scaled by this (0.1 = ten times faster than life). */
  timeScale?: number;
  summaryEveryMs?: number;
  print?: (line: string) => void;
}

export interface Demo {
  platform: Platform;
  sim: SimCluster;
  stop(): Promise<void>;
}

/** Valid-looking Chinese mobile numbers (138 + 8 digits), as in the seed documents. */
function sampleNumbers(count: number, offset: number): string[] {
  return Array.from({ length: count }, (_, i) => `+86138${String(10_000_000 + offset + i).slice(-8)}`);
}

interface Created {
  id: string;
}

/**
 * `switchboard demo` (what `npm start` runs): the embedded platform, two simulated FreeSWITCH
 * nodes, three lines over two carriers and two sample campaigns, set up through the platform's
 * own HTTP API; calls start flowing at once and a summary is printed every few seconds.
 * Its data lives in <dataDir>/demo and is wiped at each start.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dataDir = resolve(options.config.dataDir, 'demo');
  rmSync(dataDir, { recursive: true, force: true });
  const sim = await startSimCluster({
    nodes: [
      { name: 'sim-1', port: 0 },
      { name: 'sim-2', port: 0 },
    ],
    profile: DEFAULT_SIM_PROFILE,
    timeScale: options.timeScale ?? 0.1,
    seed: 42,
    heartbeatIntervalMs: 5_000,
  });
  let platform: Platform;
  try {
    platform = await startPlatform({
      config: {
        ...options.config,
        dataDir,
        databasePath: join(dataDir, 'switchboard.db'),
        keyFile: join(dataDir, 'keys.json'),
        // Real carriers get the 30 s slow start; a demo should show its pace within seconds.
        warmupMs: Math.min(options.config.warmupMs, 5_000),
      },
      logger: options.logger,
      switchWaitMs: 0,
    });
  } catch (error) {
    await sim.close();
    throw error;
  }
  const api = new ApiClient(platform.url, platform.apiKey);
  const perCampaign = options.tasksPerCampaign ?? 2_000;
  // Said first: the API serves from here on, while the sample data goes in through it.
  print(
    `Switchboard demo: ${sim.nodes.length} simulated switches, 3 lines, 2 campaigns × ${perCampaign} tasks`,
  );
  print(`  API docs   ${platform.url}/docs`);
  print(`  metrics    ${platform.url}/metrics`);
  print(`  health     ${platform.url}/healthz`);
  print(`  API key    ${platform.apiKey}   (curl -H 'Authorization: Bearer …' ${platform.url}/v1/campaigns)`);
  const switchIds: string[] = [];
  for (const node of sim.nodes) {
    const created = await api.post<Created>('/v1/switches', {
      name: node.name,
      eslHost: node.host,
      eslPort: node.port,
      eslPassword: 'ClueCon',
      maxSessions: 1000,
      maxCaps: 100,
      enabled: true,
    });
    switchIds.push(created.id);
  }
  const carrier1 = await api.post<Created>('/v1/gateways', { name: 'carrier1', switchIds, enabled: true });
  const carrier2 = await api.post<Created>('/v1/gateways', { name: 'carrier2', switchIds, enabled: true });
  const line = (name: string, gatewayId: string, caps: number, maxConcurrent: number) =>
    api.post<Created>('/v1/lines', {
      name,
      gatewayId,
      dialTemplate: 'sofia/gateway/{gateway}/{number}',
      numberFormat: 'national',
      callerIds: ['4001001000'],
      caps,
      maxConcurrent,
      enabled: true,
    });
  const lineA = await line('carrier1-main', carrier1.id, 20, 120);
  const lineB = await line('carrier1-backup', carrier1.id, 10, 60);
  const lineC = await line('carrier2-main', carrier2.id, 15, 90);
  const retryPolicy = { maxAttempts: 2, retryDelaySec: { busy: 20, no_answer: 30 } };
  const campaigns = [
    await api.post<Created>('/v1/campaigns', {
      name: 'Policy renewal reminders',
      weight: 2,
      lineIds: [lineA.id, lineB.id],
      defaultRegion: 'CN',
      retryPolicy,
      maxCallDurationSec: 120,
    }),
    await api.post<Created>('/v1/campaigns', {
      name: 'Delivery callbacks',
      weight: 1,
      lineIds: [lineB.id, lineC.id],
      defaultRegion: 'CN',
      retryPolicy,
      maxCallDurationSec: 120,
    }),
  ];
  for (const [i, campaign] of campaigns.entries()) {
    const tasks = sampleNumbers(perCampaign, i * perCampaign).map((number, n) => ({
      number,
      variables: { customer: `C${n}` },
    }));
    await api.post(`/v1/campaigns/${campaign.id}/tasks/batch`, { tasks });
  }

  const startedAt = Date.now();
  let lastAttempts = 0;
  let lastAt = startedAt;
  const summary = setInterval(async () => {
    try {
      const stats = await Promise.all(
        campaigns.map((c) => platform.store.campaigns.stats(platform.tenantId, c.id)),
      );
      const sum = (pick: (s: (typeof stats)[number]) => number) => stats.reduce((acc, s) => acc + pick(s), 0);
      const outcomes = new Map<string, number>();
      for (const s of stats)
        for (const [k, v] of Object.entries(s.byOutcome)) outcomes.set(k, (outcomes.get(k) ?? 0) + (v ?? 0));
      const attempts = (await platform.metrics.attempts.get()).values.reduce((acc, v) => acc + v.value, 0);
      const now = Date.now();
      const caps = ((attempts - lastAttempts) * 1000) / Math.max(1, now - lastAt);
      lastAttempts = attempts;
      lastAt = now;
      print(
        `[${Math.round((now - startedAt) / 1000)}s] queued ${sum((s) => s.byStatus.queued)} · in call ${platform.worker.activeCalls} · ` +
          `completed ${sum((s) => s.byStatus.completed)} (${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ') || '—'}) · ` +
          `${caps.toFixed(1)} calls/s`,
      );
    } catch (error) {
      options.logger.warn({ err: error }, 'demo summary failed');
    }
  }, options.summaryEveryMs ?? 5_000);

  return {
    platform,
    sim,
    async stop() {
      clearInterval(summary);
      await platform.stop();
      await sim.close();
    },
  };
}
