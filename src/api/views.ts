import type { Attempt } from '../domain/attempt.js';
import type { Campaign, Gateway, Line } from '../domain/resources.js';
import type { Task } from '../domain/task.js';
import { formatInstant, formatOptionalInstant } from '../intake/timestamps.js';
import type { CampaignStats, SwitchRecord } from '../store/contract.js';

/**
 * Domain objects as the API shows them: instants as RFC 3339, no tenant ids (implied by the
 * key), no sealed secrets. Fields are listed one by one so that a new store column never leaks
 * into a response by accident.
 */
export function campaignView(campaign: Campaign, stats?: CampaignStats) {
  return {
    id: campaign.id,
    name: campaign.name,
    status: campaign.status,
    weight: campaign.weight,
    lineIds: campaign.lineIds,
    defaultRegion: campaign.defaultRegion,
    callerId: campaign.callerId,
    retryPolicy: {
      maxAttempts: campaign.retryPolicy.maxAttempts,
      retryDelaySec: { ...campaign.retryPolicy.retryDelaySec } as Record<string, number>,
    },
    ringTimeoutSec: campaign.ringTimeoutSec,
    maxCallDurationSec: campaign.maxCallDurationSec,
    caps: campaign.caps,
    maxConcurrent: campaign.maxConcurrent,
    schedule: campaign.schedule,
    selectionStrategy: campaign.selectionStrategy,
    createdAt: formatInstant(campaign.createdAt),
    updatedAt: formatInstant(campaign.updatedAt),
    version: campaign.version,
    ...(stats
      ? { stats: { byStatus: stats.byStatus, byOutcome: stats.byOutcome as Record<string, number> } }
      : {}),
  };
}

export function attemptView(attempt: Attempt) {
  return {
    id: attempt.id,
    status: attempt.status,
    workerId: attempt.workerId,
    switchId: attempt.switchId,
    gatewayId: attempt.gatewayId,
    lineId: attempt.lineId,
    callerId: attempt.callerId,
    createdAt: formatInstant(attempt.createdAt),
    originatedAt: formatOptionalInstant(attempt.originatedAt),
    ringingAt: formatOptionalInstant(attempt.ringingAt),
    answeredAt: formatOptionalInstant(attempt.answeredAt),
    endedAt: formatOptionalInstant(attempt.endedAt),
    hangupCause: attempt.hangupCause,
    sipCode: attempt.sipCode,
    outcome: attempt.outcome,
    mayHaveReachedCallee: attempt.mayHaveReachedCallee,
  };
}

export function taskView(task: Task, attempts?: Attempt[]) {
  return {
    id: task.id,
    campaignId: task.campaignId,
    numberMasked: task.numberMasked,
    variables: task.variables,
    priority: task.priority,
    notBefore: formatInstant(task.notBefore),
    expiresAt: formatOptionalInstant(task.expiresAt),
    status: task.status,
    version: task.version,
    attemptCount: task.attemptCount,
    outcome: task.outcome,
    externalRef: task.externalRef,
    createdAt: formatInstant(task.createdAt),
    updatedAt: formatInstant(task.updatedAt),
    ...(attempts ? { attempts: attempts.map(attemptView) } : {}),
  };
}

function stamps(resource: { createdAt: number; updatedAt: number; version: number }) {
  return {
    createdAt: formatInstant(resource.createdAt),
    updatedAt: formatInstant(resource.updatedAt),
    version: resource.version,
  };
}

/** The ESL password is write-only: only whether one is set is shown. */
export function switchView(record: SwitchRecord) {
  return {
    id: record.id,
    name: record.name,
    eslHost: record.eslHost,
    eslPort: record.eslPort,
    eslPasswordSet: record.eslPasswordSealed.length > 0,
    maxSessions: record.maxSessions,
    maxCaps: record.maxCaps,
    enabled: record.enabled,
    ...stamps(record),
  };
}

export function gatewayView(gateway: Gateway) {
  return {
    id: gateway.id,
    name: gateway.name,
    switchIds: gateway.switchIds,
    maxCaps: gateway.maxCaps,
    maxConcurrent: gateway.maxConcurrent,
    enabled: gateway.enabled,
    ...stamps(gateway),
  };
}

export function lineView(line: Line) {
  return {
    id: line.id,
    name: line.name,
    gatewayId: line.gatewayId,
    dialTemplate: line.dialTemplate,
    numberFormat: line.numberFormat,
    callerIds: line.callerIds,
    caps: line.caps,
    maxConcurrent: line.maxConcurrent,
    weight: line.weight,
    callerIdCaps: line.callerIdCaps,
    callerIdMaxConcurrent: line.callerIdMaxConcurrent,
    healthOverride: line.healthOverride,
    tenantId: line.tenantId,
    enabled: line.enabled,
    ...stamps(line),
  };
}
