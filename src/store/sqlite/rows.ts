import type { Attempt, AttemptStatus } from '../../domain/attempt.js';
import type { Outcome } from '../../domain/outcome.js';
import type {
  CallingSchedule,
  Campaign,
  CampaignStatus,
  Gateway,
  Line,
  NumberFormat,
  SelectionStrategy,
} from '../../domain/resources.js';
import type { RetryPolicy } from '../../domain/retry-policy.js';
import type { Task, TaskStatus } from '../../domain/task.js';
import type { SwitchRecord } from '../contract.js';

/** Row shapes as SQLite returns them, and their mapping to domain objects. */

export interface SwitchRow {
  id: string;
  name: string;
  esl_host: string;
  esl_port: number;
  esl_password_sealed: string;
  max_sessions: number;
  max_caps: number;
  enabled: number;
  created_at: number;
  updated_at: number;
  version: number;
}

export function toSwitch(row: SwitchRow): SwitchRecord {
  return {
    id: row.id,
    name: row.name,
    eslHost: row.esl_host,
    eslPort: row.esl_port,
    eslPasswordSealed: row.esl_password_sealed,
    maxSessions: row.max_sessions,
    maxCaps: row.max_caps,
    enabled: row.enabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

export interface GatewayRow {
  id: string;
  name: string;
  max_caps: number | null;
  max_concurrent: number | null;
  enabled: number;
  created_at: number;
  updated_at: number;
  version: number;
}

export function toGateway(row: GatewayRow, switchIds: string[]): Gateway {
  return {
    id: row.id,
    name: row.name,
    switchIds,
    maxCaps: row.max_caps,
    maxConcurrent: row.max_concurrent,
    enabled: row.enabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

export interface LineRow {
  id: string;
  name: string;
  gateway_id: string;
  dial_template: string;
  number_format: string;
  caller_ids: string;
  caps: number;
  max_concurrent: number;
  weight: number;
  caller_id_caps: number | null;
  caller_id_max_concurrent: number | null;
  health_override: string | null;
  tenant_id: string | null;
  enabled: number;
  created_at: number;
  updated_at: number;
  version: number;
}

export function toLine(row: LineRow): Line {
  return {
    id: row.id,
    name: row.name,
    gatewayId: row.gateway_id,
    dialTemplate: row.dial_template,
    numberFormat: row.number_format as NumberFormat,
    callerIds: JSON.parse(row.caller_ids) as string[],
    caps: row.caps,
    maxConcurrent: row.max_concurrent,
    weight: row.weight,
    callerIdCaps: row.caller_id_caps,
    callerIdMaxConcurrent: row.caller_id_max_concurrent,
    healthOverride:
      row.health_override === 'in' || row.health_override === 'out' ? row.health_override : null,
    tenantId: row.tenant_id,
    enabled: row.enabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

export interface CampaignRow {
  id: string;
  tenant_id: string;
  name: string;
  status: string;
  weight: number;
  default_region: string | null;
  caller_id: string | null;
  retry_policy: string;
  ring_timeout_sec: number;
  max_call_duration_sec: number;
  caps: number | null;
  max_concurrent: number | null;
  schedule: string | null;
  selection_strategy: string;
  created_at: number;
  updated_at: number;
  version: number;
}

export function toCampaign(row: CampaignRow, lineIds: string[]): Campaign {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    status: row.status as CampaignStatus,
    weight: row.weight,
    lineIds,
    defaultRegion: row.default_region,
    callerId: row.caller_id,
    retryPolicy: JSON.parse(row.retry_policy) as RetryPolicy,
    ringTimeoutSec: row.ring_timeout_sec,
    maxCallDurationSec: row.max_call_duration_sec,
    caps: row.caps,
    maxConcurrent: row.max_concurrent,
    schedule: row.schedule === null ? null : (JSON.parse(row.schedule) as CallingSchedule),
    selectionStrategy: row.selection_strategy as SelectionStrategy,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

export interface TaskRow {
  id: string;
  tenant_id: string;
  campaign_id: string;
  number_sealed: string;
  number_index: string;
  number_masked: string;
  variables: string;
  priority: number;
  not_before: number;
  expires_at: number | null;
  status: string;
  version: number;
  attempt_count: number;
  not_dialed_count: number;
  outcome: string | null;
  external_ref: string | null;
  created_at: number;
  updated_at: number;
}

export function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    campaignId: row.campaign_id,
    numberMasked: row.number_masked,
    variables: JSON.parse(row.variables) as Record<string, string>,
    priority: row.priority,
    notBefore: row.not_before,
    expiresAt: row.expires_at,
    status: row.status as TaskStatus,
    version: row.version,
    attemptCount: row.attempt_count,
    notDialedCount: row.not_dialed_count,
    outcome: row.outcome as Outcome | null,
    externalRef: row.external_ref,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface AttemptRow {
  id: string;
  task_id: string;
  campaign_id: string;
  tenant_id: string;
  worker_id: string;
  switch_id: string;
  gateway_id: string;
  line_id: string;
  caller_id: string | null;
  status: string;
  created_at: number;
  originated_at: number | null;
  ringing_at: number | null;
  answered_at: number | null;
  ended_at: number | null;
  hangup_cause: string | null;
  sip_code: number | null;
  outcome: string | null;
  may_have_reached: number | null;
  sending_at: number | null;
}

export function toAttempt(row: AttemptRow): Attempt {
  return {
    id: row.id,
    taskId: row.task_id,
    campaignId: row.campaign_id,
    tenantId: row.tenant_id,
    workerId: row.worker_id,
    switchId: row.switch_id,
    gatewayId: row.gateway_id,
    lineId: row.line_id,
    callerId: row.caller_id,
    status: row.status as AttemptStatus,
    createdAt: row.created_at,
    originatedAt: row.originated_at,
    ringingAt: row.ringing_at,
    answeredAt: row.answered_at,
    endedAt: row.ended_at,
    hangupCause: row.hangup_cause,
    sipCode: row.sip_code,
    outcome: row.outcome as Outcome | null,
    mayHaveReachedCallee: row.may_have_reached === null ? null : row.may_have_reached === 1,
  };
}
