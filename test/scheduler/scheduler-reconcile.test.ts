import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryDialSlots } from '../../src/coord/memory-dial-slots.js';
import type { DialOrder } from '../../src/domain/dial-order.js';
import { createLogger } from '../../src/observability/logger.js';
import { PlatformMetrics } from '../../src/observability/metrics.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { createCampaign, type Harness, makeHarness, seedResources } from '../api/harness.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * The leader's in-flight book against the store's truth: a call whose `ended` word never came
 * (a worker killed mid-report, a bus that lost its messages) gives its slots back within two
 * reconciliations, not at the end of its hour-long lease; a call still open keeps them.
 */
describe('scheduler reconciliation with the store', () => {
  const dir = makeTempDir();
  let h: Harness;
  let lineId: string;
  let switchId: string;

  beforeAll(async () => {
    h = await makeHarness(dir.path);
    ({ lineId, switchId } = await seedResources(h));
  });
  afterAll(async () => {
    await h.close();
    dir.remove();
  });

  it('frees the slots of a call the store shows ended only when two reads agree, and once', async () => {
    const campaign = await createCampaign(h, { lineIds: [lineId] });
    for (const number of ['+8613800000011', '+8613800000012', '+8613800000013']) {
      const response = await h.call({
        method: 'POST',
        url: `/v1/campaigns/${campaign.id}/tasks`,
        payload: { number },
      });
      expect(response.statusCode).toBe(201);
    }
    const orders: DialOrder[] = [];
    const lostReported: string[][] = [];
    const scheduler = new Scheduler({
      store: h.store,
      slots: new MemoryDialSlots(0),
      worker: {
        isSwitchUsable: () => true,
        spareCapacity: () => 100,
        dial: (order) => orders.push(order),
        reconcile: (_open, lost) => lostReported.push([...lost]),
      },
      workerId: 'w1',
      clock: () => h.clock.now,
      logger: createLogger('silent'),
      metrics: new PlatformMetrics(),
      warmupMs: 0,
    });
    await scheduler.prepare();
    scheduler.switchStateChanged(switchId, true);
    // The line's CAPS of 10 paces its calls 100 ms apart.
    for (let round = 0; round < 10 && orders.length < 3; round++) {
      await scheduler.runOnce();
      h.clock.now += 100;
    }
    expect(orders).toHaveLength(3);
    const inFlight = async () => (await scheduler.dispatchStatus('acme', campaign.id))!.inFlight.campaign;
    expect(await inFlight()).toBe(3);

    // Nothing ended: reconciliation changes nothing, however often it runs.
    await scheduler.reconcile();
    await scheduler.reconcile();
    expect(await inFlight()).toBe(3);

    // Two calls end in the store (a worker wrote them) but the scheduler never hears of it.
    const [gone, late, open] = orders as [DialOrder, DialOrder, DialOrder];
    h.clock.now += 5_000;
    await h.store.dispatch.finish(
      [gone, late].map((o) => ({
        attemptId: o.attemptId,
        taskId: o.taskId,
        endedAtMs: h.clock.now,
        hangupCause: 'USER_BUSY',
        sipCode: 486,
        outcome: 'busy' as const,
        mayHaveReachedCallee: true,
        next: { status: 'completed' as const, outcome: 'busy' as const },
        countsAsAttempt: true,
      })),
      h.clock.now,
    );
    // One read that misses them is not enough: a claim may commit while a read runs.
    await scheduler.reconcile();
    expect(await inFlight()).toBe(3);
    // The second agrees: their slots come back, and the worker's books hear which calls were lost.
    await scheduler.reconcile();
    expect(await inFlight()).toBe(1);
    expect(lostReported.at(-1)?.sort()).toEqual([gone.attemptId, late.attemptId].sort());

    // The word arrives late after all: nothing is freed twice, the open call still counts.
    scheduler.attemptEnded({
      attemptId: late.attemptId,
      taskId: late.taskId,
      campaignId: campaign.id,
      outcome: 'busy',
      lineId,
      gatewayId: late.gateway.id,
      switchId: late.switchId,
    });
    expect(await inFlight()).toBe(1);
    await scheduler.reconcile();
    await scheduler.reconcile();
    expect(await inFlight()).toBe(1);
    expect((await h.store.dispatch.openAttemptIds()).get(open.attemptId)).toBe('w1');
  });
});
