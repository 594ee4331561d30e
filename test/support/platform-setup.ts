import type { ApiClient } from '../../src/platform/api-client.js';

export interface SwitchAddress {
  name: string;
  host: string;
  port: number;
}

export interface LineSpec {
  name: string;
  gateway: string;
  caps: number;
  maxConcurrent: number;
}

export interface CampaignSpec {
  name: string;
  lines: string[];
  tasks: number;
  /** First number's offset, so that campaigns dial different numbers. */
  numberOffset: number;
  maxAttempts?: number;
  retryDelaySec?: Record<string, number>;
  /** Also how long a simulated no-answer rings (times the simulator's time scale). */
  ringTimeoutSec?: number;
}

export interface Layout {
  switchIds: string[];
  lineIds: Map<string, string>;
  campaignIds: string[];
  taskIds: string[];
}

export function numbersFrom(offset: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `+86139${String(10_000_000 + offset + i).slice(-8)}`);
}

/** Sets a platform up through its HTTP API, the way a business and an operator would. */
export async function setUpThroughApi(
  api: ApiClient,
  switches: SwitchAddress[],
  gateways: string[],
  lines: LineSpec[],
  campaigns: CampaignSpec[],
): Promise<Layout> {
  const switchIds: string[] = [];
  for (const sw of switches) {
    const created = await api.post<{ id: string }>('/v1/switches', {
      name: sw.name,
      eslHost: sw.host,
      eslPort: sw.port,
      eslPassword: 'ClueCon',
      maxSessions: 1000,
      maxCaps: 200,
      enabled: true,
    });
    switchIds.push(created.id);
  }
  const gatewayIds = new Map<string, string>();
  for (const name of gateways) {
    gatewayIds.set(
      name,
      (await api.post<{ id: string }>('/v1/gateways', { name, switchIds, enabled: true })).id,
    );
  }
  const lineIds = new Map<string, string>();
  for (const line of lines) {
    const created = await api.post<{ id: string }>('/v1/lines', {
      name: line.name,
      gatewayId: gatewayIds.get(line.gateway),
      dialTemplate: 'sofia/gateway/{gateway}/{number}',
      numberFormat: 'national',
      callerIds: ['4001001000'],
      caps: line.caps,
      maxConcurrent: line.maxConcurrent,
      enabled: true,
    });
    lineIds.set(line.name, created.id);
  }
  const campaignIds: string[] = [];
  const taskIds: string[] = [];
  for (const spec of campaigns) {
    const campaign = await api.post<{ id: string }>('/v1/campaigns', {
      name: spec.name,
      lineIds: spec.lines.map((l) => lineIds.get(l)),
      defaultRegion: 'CN',
      ringTimeoutSec: spec.ringTimeoutSec ?? 30,
      maxCallDurationSec: 60,
      retryPolicy: { maxAttempts: spec.maxAttempts ?? 1, retryDelaySec: spec.retryDelaySec ?? {} },
    });
    campaignIds.push(campaign.id);
    const result = await api.post<{ results: Array<{ status: string; id?: string }> }>(
      `/v1/campaigns/${campaign.id}/tasks/batch`,
      {
        tasks: numbersFrom(spec.numberOffset, spec.tasks).map((number, i) => ({
          number,
          variables: { ref: `r${i}` },
        })),
      },
    );
    for (const item of result.results) {
      if (item.status !== 'created' || !item.id) throw new Error(`task not created: ${JSON.stringify(item)}`);
      taskIds.push(item.id);
    }
  }
  return { switchIds, lineIds, campaignIds, taskIds };
}

export interface CampaignView {
  stats?: { byStatus: Record<string, number>; byOutcome: Record<string, number> };
}

/** Sums task counts by status over campaigns, read through the API. */
export async function taskStatusCounts(
  api: ApiClient,
  campaignIds: string[],
): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const id of campaignIds) {
    const view = await api.get<CampaignView>(`/v1/campaigns/${id}`);
    for (const [status, n] of Object.entries(view.stats?.byStatus ?? {}))
      totals[status] = (totals[status] ?? 0) + n;
  }
  return totals;
}
