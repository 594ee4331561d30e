import type { DispatchView, LineHealthView } from '../api/options.js';
import { ProblemError } from '../api/problem.js';
import type { Coordination } from '../coord/cluster-contract.js';
import type { DispatchStatus } from '../scheduler/scheduler.js';
import { type Notice, type RpcRequest, STREAMS } from './messages.js';

const RPC_TIMEOUT_MS = 3_000;

/**
 * An api process of a cluster talks to the scheduler through the bus: changes become notices the
 * leader picks up, questions only the leader can answer become requests. With no leader to answer
 * (an election in progress), the caller gets 503 with a code that says so.
 */
export function clusterDispatchView(coord: Coordination): DispatchView {
  const ask = async (request: RpcRequest): Promise<unknown> => {
    try {
      return await coord.bus.request(STREAMS.rpc, request, RPC_TIMEOUT_MS);
    } catch (error) {
      throw new ProblemError(
        503,
        'scheduler_unavailable',
        'no scheduler answered (a leader election may be in progress); try again shortly',
        undefined,
        { cause: error },
      );
    }
  };
  return {
    async dispatchStatus(tenantId, campaignId) {
      return ((await ask({ kind: 'dispatchStatus', tenantId, campaignId })) ?? undefined) as
        | DispatchStatus
        | undefined;
    },
    async lineHealth(lineId) {
      return (await ask({ kind: 'lineHealth', lineId })) as LineHealthView | null;
    },
    async setLineOverride(lineId, override) {
      await ask({ kind: 'lineOverride', lineId, override });
    },
  };
}

/** The api's "look again" signals, as notices on the bus (and switch changes to every worker). */
export function clusterNotifier(coord: Coordination, onError: (error: unknown) => void) {
  const notice = (message: Notice) => void coord.bus.publish(STREAMS.notices, [message]).catch(onError);
  return {
    tasksSubmitted: (campaignId: string) => notice({ kind: 'tasks', campaignId }),
    campaignChanged: (campaignId: string) => notice({ kind: 'campaign', campaignId }),
    tenantChanged: () => notice({ kind: 'tenants' }),
    resourcesChanged: () => {
      notice({ kind: 'resources' });
      void coord.bus.publish(STREAMS.resources, [{ kind: 'resources' }]).catch(onError);
    },
  };
}
