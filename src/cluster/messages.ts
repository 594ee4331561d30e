import type { AttemptEnded, DialOrder } from '../domain/dial-order.js';
import type { SwitchLoad } from '../scheduler/core-types.js';
import type { HealthOverride } from '../scheduler/line-health.js';

/**
 * What crosses the bus between the roles of a cluster (coord/ MessageBus). Streams:
 *
 * - `orders:<workerId>`: the leader → one worker: calls to place, calls to adopt.
 * - `scheduler:events`: every worker → the leader: what became of its calls and switches.
 * - `scheduler:notices`: api → the leader: something it must re-read.
 * - `scheduler:rpc`: api → the leader, request/reply: questions only the leader can answer.
 * - `broadcast:resources`: api → every worker: switches changed, reconnect as needed.
 *
 * Messages are produced by our own processes, but a bus is a boundary: each consumer checks the
 * shape it relies on (`isOrderMessage` …) and drops, with a log line, what does not fit.
 */
/**
 * A worker refuses (as `not_dialed`) an order older than this when it would send it. So every
 * originate reaches its switch within this long of the leader's decision: the leader counts an
 * unreported grant at that latest time (MemoryDialSlots `unsentBoundMs`, and so does the slot
 * ledger a successor reads); a new leader that finds the ledger lost waits this long plus a CAPS
 * window before its first dispatch. Clocks of the hosts must agree to well within it (NTP).
 */
export const ORDER_MAX_AGE_MS = 500;

export const STREAMS = {
  orders: (workerId: string) => `orders:${workerId}`,
  events: 'scheduler:events',
  notices: 'scheduler:notices',
  rpc: 'scheduler:rpc',
  resources: 'broadcast:resources',
} as const;

/** Leader → worker. */
export type OrderMessage =
  /** Place this call. `fence` is the leader's token: a worker refuses orders of a deposed leader. */
  | { kind: 'dial'; fence: number; order: DialOrder }
  /** Take over the open calls of a worker that is gone (R3.6). */
  | { kind: 'adopt'; fence: number; fromWorkerId: string };

export interface AttemptEndedEvent extends AttemptEnded {
  kind: 'ended';
  workerId: string;
}

/** Worker → leader. */
export type WorkerEvent =
  | AttemptEndedEvent
  | { kind: 'sent'; workerId: string; attemptId: string; atMs: number }
  | { kind: 'answered'; workerId: string; attemptId: string; lineId: string; gatewayId: string }
  | { kind: 'moved'; workerId: string; campaignId: string }
  | { kind: 'switch'; workerId: string; switchId: string; usable: boolean }
  | { kind: 'load'; workerId: string; switchId: string; load: SwitchLoad }
  /** Calls this worker now follows on behalf of `fromWorkerId` (adoption done). */
  | { kind: 'adopted'; workerId: string; fromWorkerId: string; attemptIds: string[] };

/** api → leader. */
export type Notice =
  | { kind: 'tasks'; campaignId: string }
  | { kind: 'campaign'; campaignId: string }
  | { kind: 'tenants' }
  | { kind: 'resources' };

/** api → leader, answered. */
export type RpcRequest =
  | { kind: 'dispatchStatus'; tenantId: string; campaignId: string }
  | { kind: 'lineHealth'; lineId: string }
  | { kind: 'lineOverride'; lineId: string; override: HealthOverride };

/** What a worker announces in its membership record (all values are strings there). */
export interface WorkerInfo {
  maxCalls: number;
  activeCalls: number;
  /** Switches this worker holds a ready link to. */
  readySwitches: string[];
  /** Which process holds the id (random per process): a second live one under the same id is refused. */
  instance?: string;
}

export function encodeWorkerInfo(info: WorkerInfo): Record<string, string> {
  return {
    maxCalls: String(info.maxCalls),
    activeCalls: String(info.activeCalls),
    readySwitches: info.readySwitches.join(','),
    ...(info.instance ? { instance: info.instance } : {}),
  };
}

export function decodeWorkerInfo(raw: Record<string, string>): WorkerInfo | undefined {
  const maxCalls = Number(raw.maxCalls);
  const activeCalls = Number(raw.activeCalls);
  if (!Number.isInteger(maxCalls) || !Number.isInteger(activeCalls)) return undefined;
  return {
    maxCalls,
    activeCalls,
    readySwitches: raw.readySwitches ? raw.readySwitches.split(',').filter(Boolean) : [],
    ...(raw.instance ? { instance: raw.instance } : {}),
  };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

export function isOrderMessage(value: unknown): value is OrderMessage {
  if (!isObject(value) || typeof value.fence !== 'number') return false;
  if (value.kind === 'adopt') return isString(value.fromWorkerId);
  if (value.kind !== 'dial' || !isObject(value.order)) return false;
  const order = value.order;
  return (
    isString(order.attemptId) &&
    isString(order.taskId) &&
    isString(order.switchId) &&
    typeof order.numberSealed === 'string' &&
    typeof order.dispatchedAtMs === 'number' &&
    (order.sendByMs === undefined || typeof order.sendByMs === 'number') &&
    isObject(order.campaign) &&
    isObject(order.line) &&
    isObject(order.gateway)
  );
}

const WORKER_EVENT_KINDS = new Set(['ended', 'sent', 'answered', 'moved', 'switch', 'load', 'adopted']);

export function isWorkerEvent(value: unknown): value is WorkerEvent {
  return isObject(value) && WORKER_EVENT_KINDS.has(value.kind as string) && isString(value.workerId);
}

const NOTICE_KINDS = new Set(['tasks', 'campaign', 'tenants', 'resources']);

export function isNotice(value: unknown): value is Notice {
  return isObject(value) && NOTICE_KINDS.has(value.kind as string);
}

export function isRpcRequest(value: unknown): value is RpcRequest {
  if (!isObject(value)) return false;
  switch (value.kind) {
    case 'dispatchStatus':
      return isString(value.tenantId) && isString(value.campaignId);
    case 'lineHealth':
      return isString(value.lineId);
    case 'lineOverride':
      return (
        isString(value.lineId) &&
        (value.override === null || value.override === 'in' || value.override === 'out')
      );
    default:
      return false;
  }
}
