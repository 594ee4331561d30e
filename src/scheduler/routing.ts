import type { SlotLevel } from '../coord/contract.js';
import type { Campaign, Gateway, Line } from '../domain/resources.js';
import type { SwitchRecord } from '../store/contract.js';

/** Everything the scheduler knows about the platform's resources, refreshed on change. */
export interface ResourceView {
  lines: ReadonlyMap<string, Line>;
  gateways: ReadonlyMap<string, Gateway>;
  switches: ReadonlyMap<string, SwitchRecord>;
}

export interface Route {
  line: Line;
  gateway: Gateway;
  switch: SwitchRecord;
  levels: SlotLevel[];
}

/** The lines a campaign may use: its own list, or every line lent to its tenant. */
export function campaignLines(campaign: Campaign, view: ResourceView): Line[] {
  const candidates =
    campaign.lineIds.length > 0
      ? campaign.lineIds.map((id) => view.lines.get(id)).filter((line): line is Line => line !== undefined)
      : [...view.lines.values()];
  return candidates.filter(
    (line) => line.enabled && (line.tenantId === null || line.tenantId === campaign.tenantId),
  );
}

/**
 * Every (line, switch) pair a campaign could dial through right now, in round-robin order from
 * `cursor`, each with the slot levels it would occupy. Limits are checked by the caller.
 */
export function candidateRoutes(
  campaign: Campaign,
  view: ResourceView,
  isSwitchUsable: (switchId: string) => boolean,
  cursor: number,
): Route[] {
  const routes: Route[] = [];
  for (const line of campaignLines(campaign, view)) {
    const gateway = view.gateways.get(line.gatewayId);
    if (!gateway?.enabled) continue;
    for (const switchId of gateway.switchIds) {
      const sw = view.switches.get(switchId);
      if (!sw?.enabled || !isSwitchUsable(switchId)) continue;
      routes.push({
        line,
        gateway,
        switch: sw,
        levels: [
          {
            key: `campaign:${campaign.id}`,
            capsPerSecond: campaign.caps,
            maxConcurrent: campaign.maxConcurrent,
          },
          { key: `line:${line.id}`, capsPerSecond: line.caps, maxConcurrent: line.maxConcurrent },
          {
            key: `gateway:${gateway.id}`,
            capsPerSecond: gateway.maxCaps,
            maxConcurrent: gateway.maxConcurrent,
          },
          { key: `switch:${sw.id}`, capsPerSecond: sw.maxCaps, maxConcurrent: sw.maxSessions },
        ],
      });
    }
  }
  if (routes.length === 0) return routes;
  const start = cursor % routes.length;
  return [...routes.slice(start), ...routes.slice(0, start)];
}
