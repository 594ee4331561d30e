import type { Logger } from 'pino';
import type { DialOrder } from '../domain/dial-order.js';
import type { Store } from '../store/contract.js';
import type { Worker } from './worker.js';

export interface RecoveryHooks {
  /** Re-holds the concurrency of a call that may still be live, before any new dispatch. */
  adoptCall(attempt: {
    id: string;
    campaignId: string;
    lineId: string;
    gatewayId: string;
    switchId: string;
    tenantId: string;
    callerId: string | null;
  }): void;
}

/**
 * After a restart, every attempt this worker left open is taken over (R3.6): its slots are held
 * again and it is looked up on its switch — followed to the end if live, ended `unknown` if gone.
 * Nothing is re-dialed here; what the evidence cannot settle stays for an operator.
 */
export async function recoverOpenAttempts(
  store: Store,
  worker: Worker,
  hooks: RecoveryHooks,
  logger: Logger,
): Promise<number> {
  const open = await store.dispatch.openAttempts(worker.workerId);
  const lines = new Map((await store.resources.listLines()).map((l) => [l.id, l]));
  const gateways = new Map((await store.resources.listGateways()).map((g) => [g.id, g]));
  for (const attempt of open) {
    const campaign = await store.campaigns.get(attempt.tenantId, attempt.campaignId);
    const line = lines.get(attempt.lineId);
    const gateway = gateways.get(attempt.gatewayId);
    const order: DialOrder = {
      attemptId: attempt.id,
      taskId: attempt.taskId,
      tenantId: attempt.tenantId,
      campaign: {
        id: attempt.campaignId,
        retryPolicy: campaign?.retryPolicy ?? { maxAttempts: 1, retryDelaySec: {} },
        ringTimeoutSec: campaign?.ringTimeoutSec ?? 60,
        maxCallDurationSec: campaign?.maxCallDurationSec ?? 3600,
      },
      line: {
        id: attempt.lineId,
        dialTemplate: line?.dialTemplate ?? '',
        numberFormat: line?.numberFormat ?? 'e164',
      },
      gateway: { id: attempt.gatewayId, name: gateway?.name ?? '' },
      switchId: attempt.switchId,
      callerId: attempt.callerId,
      numberSealed: '',
      numberMasked: '',
      variables: {},
      taskAttemptCount: attempt.taskAttemptCount,
      taskNotDialedCount: attempt.taskNotDialedCount,
      taskExpiresAt: attempt.taskExpiresAt,
      dispatchedAtMs: attempt.createdAt,
    };
    hooks.adoptCall(attempt);
    worker.adopt(order, attempt.status);
  }
  if (open.length > 0) logger.info({ attempts: open.length }, 'recovering calls left open by a previous run');
  return open.length;
}
