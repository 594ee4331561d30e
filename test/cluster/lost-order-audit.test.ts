import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LostOrderAudit } from '../../src/cluster/lost-order-audit.js';
import { uuidv7 } from '../../src/domain/ids.js';
import { createLogger } from '../../src/observability/logger.js';
import { PlatformMetrics } from '../../src/observability/metrics.js';
import { NumberVault } from '../../src/security/number-vault.js';
import { Adoptions } from '../../src/worker/adoptions.js';
import { Worker } from '../../src/worker/worker.js';
import { createCampaign, type Harness, makeHarness, seedResources } from '../api/harness.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * An order lost on the bus (Redis restarted between the leader's claim and the worker's read)
 * leaves an attempt open, assigned to a live worker that never heard of it. The worker's audit
 * finds it on two checks running and ends it `not_dialed` (it was never cleared to send), so the
 * task is dispatched again; calls the worker follows, and young attempts, are left alone.
 */
describe('lost order audit', () => {
  const dir = makeTempDir();
  const logger = createLogger('silent');
  let h: Harness;
  let worker: Worker;
  let campaignId: string;
  let ids: { switchId: string; gatewayId: string; lineId: string };
  let numbers = 0;

  beforeAll(async () => {
    h = await makeHarness(dir.path);
    ids = await seedResources(h);
    campaignId = (await createCampaign(h, { lineIds: [ids.lineId] })).id;
    worker = new Worker({
      workerId: 'w1',
      store: h.store,
      vault: new NumberVault({
        activeKeyId: 'k1',
        encryptionKeys: new Map([['k1', randomBytes(32)]]),
        indexKey: randomBytes(32),
      }),
      clock: () => h.clock.now,
      logger,
      metrics: new PlatformMetrics(),
      maxCalls: 10,
      onAttemptEnded: () => {},
      onTasksMoved: () => {},
    });
  });
  afterAll(async () => {
    await worker.stop();
    await h.close();
    dir.remove();
  });

  async function claimed(atMs: number): Promise<{ taskId: string; attemptId: string }> {
    const response = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${campaignId}/tasks`,
      payload: { number: `+86138${String(++numbers).padStart(8, '0')}` },
    });
    const { id: taskId, version } = response.json() as { id: string; version: number };
    const attemptId = uuidv7(atMs);
    const [won] = await h.store.dispatch.claim(
      [
        {
          taskId,
          expectedVersion: version,
          attempt: {
            id: attemptId,
            taskId,
            campaignId,
            tenantId: 'acme',
            workerId: 'w1',
            ...ids,
            callerId: null,
          },
        },
      ],
      atMs,
    );
    expect(won).toBe(true);
    return { taskId, attemptId };
  }

  it('ends an order never received not_dialed after two checks, and leaves followed and young ones', async () => {
    const lost = await claimed(h.clock.now);
    const followed = await claimed(h.clock.now);
    h.clock.now += 10_000;
    const young = await claimed(h.clock.now);
    // The worker follows one of them (its order arrived), as recovery or dial would have it.
    worker.adopt(
      {
        attemptId: followed.attemptId,
        taskId: followed.taskId,
        tenantId: 'acme',
        campaign: {
          id: campaignId,
          retryPolicy: { maxAttempts: 1, retryDelaySec: {} },
          ringTimeoutSec: 30,
          maxCallDurationSec: 60,
        },
        line: { id: ids.lineId, dialTemplate: 'sofia/gateway/{gateway}/{number}', numberFormat: 'e164' },
        gateway: { id: ids.gatewayId, name: 'carrier-a' },
        switchId: ids.switchId,
        callerId: null,
        numberSealed: '',
        numberMasked: '',
        variables: {},
        taskAttemptCount: 0,
        taskNotDialedCount: 0,
        taskExpiresAt: null,
        dispatchedAtMs: h.clock.now - 10_000,
      },
      'originated',
    );
    const audit = new LostOrderAudit(
      h.store,
      worker,
      () => h.clock.now,
      logger,
      (only) => new Adoptions({ store: h.store, worker, logger, clock: () => h.clock.now }).adopt('w1', only),
      60_000,
    );
    await audit.check();
    // One check is not enough: an ended call's record may be on its way to the store.
    expect((await h.store.dispatch.openAttemptIds()).has(lost.attemptId)).toBe(true);
    await audit.check();
    const open = await h.store.dispatch.openAttemptIds();
    expect(open.has(lost.attemptId)).toBe(false);
    expect(open.has(followed.attemptId)).toBe(true);
    expect(open.has(young.attemptId)).toBe(true);
    const task = await h.store.tasks.get('acme', lost.taskId);
    expect(task).toMatchObject({ status: 'queued', attemptCount: 0, notDialedCount: 1 });
    expect(task?.attempts[0]).toMatchObject({ outcome: 'not_dialed', mayHaveReachedCallee: false });
    await audit.stop();
  });

  it('dials an attempt once, however often its order arrives', async () => {
    const twice = await claimed(h.clock.now);
    const order = {
      attemptId: twice.attemptId,
      taskId: twice.taskId,
      tenantId: 'acme',
      campaign: {
        id: campaignId,
        retryPolicy: { maxAttempts: 1, retryDelaySec: {} },
        ringTimeoutSec: 30,
        maxCallDurationSec: 60,
      },
      line: {
        id: ids.lineId,
        dialTemplate: 'sofia/gateway/{gateway}/{number}',
        numberFormat: 'e164' as const,
      },
      gateway: { id: ids.gatewayId, name: 'carrier-a' },
      switchId: ids.switchId,
      callerId: null,
      numberSealed: '',
      numberMasked: '',
      variables: {},
      taskAttemptCount: 0,
      taskNotDialedCount: 0,
      taskExpiresAt: null,
      dispatchedAtMs: h.clock.now,
    };
    // The worker follows the call (its order was placed); the same order delivered again changes
    // nothing — before, it replaced the call, and here (no switch link) ended it not_dialed.
    worker.adopt(order, 'originated');
    worker.dial(order);
    await worker.flush();
    expect(worker.isFollowing(twice.attemptId)).toBe(true);
    expect((await h.store.dispatch.openAttemptIds()).has(twice.attemptId)).toBe(true);
  });
});
