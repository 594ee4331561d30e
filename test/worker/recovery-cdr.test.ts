import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DialOrder } from '../../src/domain/dial-order.js';
import { uuidv7 } from '../../src/domain/ids.js';
import { createLogger } from '../../src/observability/logger.js';
import { PlatformMetrics } from '../../src/observability/metrics.js';
import { NumberVault } from '../../src/security/number-vault.js';
import { generateServiceToken } from '../../src/security/service-tokens.js';
import { type CarrierModel, type SimCluster, startSimCluster } from '../../src/sim/index.js';
import type { CallRecordRepository } from '../../src/store/call-record-contract.js';
import { SqliteCallRecords } from '../../src/store/sqlite/call-records.js';
import { openSqlite, type SqliteDatabase } from '../../src/store/sqlite/database.js';
import { CallRecovery, type RecoveryHooks } from '../../src/worker/recovery.js';
import { Worker } from '../../src/worker/worker.js';
import { type Harness, makeHarness } from '../api/harness.js';
import { WireClient } from '../sim/wire-client.js';
import { eventually } from '../support/child.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * R3.6 with switch records: calls that end while no worker watches are recovered with the outcome
 * their switch recorded (mod_json_cdr → POST /internal/v1/cdr → call_records), not `unknown`.
 * Everything is real but the dead worker: the simulator places its calls (as that worker's
 * originate did) and posts their records to the platform's API over HTTP; a new worker recovers.
 */
const dir = makeTempDir();
const logger = createLogger('silent');

const BUSY: CarrierModel = {
  answer: 0,
  busy: 1,
  noAnswer: 0,
  invalid: 0,
  congestion: 0,
  ringMs: { minMs: 500, maxMs: 500 },
  talkMs: { minMs: 1000, maxMs: 1000 },
};
const ANSWER: CarrierModel = { ...BUSY, answer: 1, busy: 0, talkMs: { minMs: 1000, maxMs: 1000 } };
const HOLD: CarrierModel = { ...ANSWER, talkMs: { minMs: 1e9, maxMs: 1e9 } };

let h: Harness;
let db: SqliteDatabase;
let records: CallRecordRepository;
let sim: SimCluster | undefined;
let front: Server | undefined;
let worker: Worker | undefined;
let recovery: CallRecovery | undefined;
const wires: WireClient[] = [];

/** The CDR door as the switch sees it; `down` answers 503 as a platform that is not up yet. */
const door = { down: false };

beforeEach(async () => {
  door.down = false;
  h = await makeHarness(dir.path, { rateLimit: false });
  db = openSqlite(h.dbPath);
  records = new SqliteCallRecords(db);
  Object.assign(h.store, { callRecords: records });
  const secret = generateServiceToken();
  await h.store.serviceTokens.create({
    id: 'tok-fs',
    role: 'worker',
    name: 'freeswitch',
    tokenHash: secret.hash,
    tokenPrefix: secret.prefix,
    createdAt: h.clock.now,
  });
  // A real HTTP listener in front of the API (inject), so the simulator posts over the wire.
  front = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (door.down) {
        res.writeHead(503).end();
        return;
      }
      const answer = await h.app.inject({
        method: 'POST',
        url: req.url ?? '/',
        headers: req.headers,
        payload: Buffer.concat(chunks),
      });
      res
        .writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type']) })
        .end(answer.body);
    });
  });
  await new Promise<void>((resolve) => front!.listen(0, '127.0.0.1', resolve));
  sim = await startSimCluster({
    nodes: [{ name: 'fs-1', port: 0 }],
    timeScale: 0.01,
    seed: 3,
    profile: { gateways: { busygw: BUSY, answergw: ANSWER, holdgw: HOLD } },
    callRecords: {
      url: `http://127.0.0.1:${(front.address() as AddressInfo).port}/internal/v1/cdr`,
      credentials: `freeswitch:${secret.token}`,
      retries: 100,
      retryDelayMs: 25,
      maxRetryDelayMs: 50,
    },
  });
  await seed();
});

afterEach(async () => {
  await recovery?.stop();
  await worker?.stop();
  for (const wire of wires.splice(0)) wire.close();
  await sim?.close();
  front?.closeAllConnections();
  await new Promise<void>((resolve) => front?.close(() => resolve()) ?? resolve());
  db.close();
  await h.close();
  recovery = undefined;
  worker = undefined;
});

async function seed(): Promise<void> {
  const now = Date.now();
  const node = sim!.nodes[0]!;
  await h.store.resources.createSwitch(
    {
      id: 'sw1',
      name: 'fs-1',
      eslHost: node.host,
      eslPort: node.port,
      eslPasswordSealed: h.vault.encrypt('ClueCon'),
      maxSessions: 100,
      maxCaps: 10,
      enabled: true,
    },
    now,
  );
  for (const name of ['busygw', 'answergw', 'holdgw']) {
    await h.store.resources.createGateway(
      { id: name, name, switchIds: ['sw1'], maxCaps: null, maxConcurrent: null, enabled: true },
      now,
    );
    await h.store.resources.createLine(
      {
        id: `line-${name}`,
        name: `line-${name}`,
        gatewayId: name,
        dialTemplate: 'sofia/gateway/{gateway}/{number}',
        numberFormat: 'e164',
        callerIds: ['1001'],
        caps: 5,
        maxConcurrent: 10,
        tenantId: null,
        enabled: true,
      },
      now,
    );
  }
  await h.store.campaigns.create(
    {
      id: 'c1',
      tenantId: 'acme',
      name: 'Renewals',
      weight: 1,
      lineIds: ['line-busygw', 'line-answergw', 'line-holdgw'],
      defaultRegion: 'CN',
      callerId: null,
      retryPolicy: { maxAttempts: 2, retryDelaySec: { busy: 300 } },
      ringTimeoutSec: 30,
      maxCallDurationSec: 600,
      caps: null,
      maxConcurrent: null,
    },
    now,
  );
}

/**
 * A task claimed by a worker (`w1` unless said) on this gateway: its attempt row is open, as
 * after a crash; `originated` (default) as if the switch had accepted its originate.
 */
async function claimedAttempt(
  gateway: string,
  { originated = true, workerId = 'w1' }: { originated?: boolean; workerId?: string } = {},
): Promise<{ taskId: string; attemptId: string }> {
  const now = Date.now();
  const taskId = uuidv7(now);
  const attemptId = uuidv7(now);
  await h.store.tasks.insertMany(
    [
      {
        id: taskId,
        tenantId: 'acme',
        campaignId: 'c1',
        numberSealed: h.vault.encrypt('+8613800000001'),
        numberIndex: `idx-${taskId}`,
        numberMasked: '+8613*******01',
        variables: {},
        priority: 0,
        notBefore: now,
        expiresAt: null,
        externalRef: null,
      },
    ],
    { skipDuplicates: false, nowMs: now },
  );
  const [won] = await h.store.dispatch.claim(
    [
      {
        taskId,
        expectedVersion: 1,
        attempt: {
          id: attemptId,
          taskId,
          campaignId: 'c1',
          tenantId: 'acme',
          workerId,
          switchId: 'sw1',
          gatewayId: gateway,
          lineId: `line-${gateway}`,
          callerId: '1001',
        },
      },
    ],
    now,
  );
  expect(won).toBe(true);
  if (originated) {
    await h.store.dispatch.markSending([attemptId], workerId, now);
    await h.store.dispatch.recordProgress([{ attemptId, status: 'originated', atMs: now + 1 }]);
  }
  return { taskId, attemptId };
}

/** The order the leader handed `w1` for a claimed attempt (the number sealed with the harness's vault). */
function orderOf(claimed: { taskId: string; attemptId: string }): DialOrder {
  return {
    attemptId: claimed.attemptId,
    taskId: claimed.taskId,
    tenantId: 'acme',
    campaign: {
      id: 'c1',
      retryPolicy: { maxAttempts: 1, retryDelaySec: {} },
      ringTimeoutSec: 30,
      maxCallDurationSec: 600,
    },
    line: { id: 'line-busygw', dialTemplate: 'sofia/gateway/{gateway}/{number}', numberFormat: 'e164' },
    gateway: { id: 'busygw', name: 'busygw' },
    switchId: 'sw1',
    callerId: '1001',
    numberSealed: h.vault.encrypt('+8613800000001'),
    numberMasked: '+8613*******01',
    variables: {},
    taskAttemptCount: 0,
    taskNotDialedCount: 0,
    taskExpiresAt: null,
    dispatchedAtMs: Date.now(),
  };
}

/** What the dead worker had sent: the originate, tagged as src/worker/worker.ts tags it. */
async function placedByDeadWorker(gateway: string): Promise<{ taskId: string; attemptId: string }> {
  const claimed = await claimedAttempt(gateway);
  const wire = await WireClient.authed(sim!.nodes[0]!.port);
  wires.push(wire);
  const { attemptId, taskId } = claimed;
  await wire.command(
    `bgapi originate {origination_uuid=${attemptId},originate_timeout=30,origination_caller_id_number=1001,sb_worker=w1,sb_attempt=${attemptId},sb_task=${taskId},sb_campaign=c1,sb_line=line-${gateway}}sofia/gateway/${gateway}/+8613800000001 &park()`,
  );
  return claimed;
}

function callEnded(attemptId: string): Promise<true> {
  return eventually(
    () =>
      sim!.groundTruth.entries().some((e) => e.type === 'hangup' && e.uuid === attemptId) ? true : undefined,
    10_000,
    `the call ${attemptId} to end`,
  );
}

function recordStored(attemptId: string): Promise<true> {
  return eventually(
    async () => ((await records.get(attemptId)) ? true : undefined),
    10_000,
    'its call record',
  );
}

interface Heard {
  adopted: string[];
  ended: Array<{ attemptId: string; outcome: string }>;
  moved: string[];
}

async function startWorker(
  vault = new NumberVault({
    activeKeyId: 'k1',
    encryptionKeys: new Map([['k1', randomBytes(32)]]),
    indexKey: randomBytes(32),
  }),
): Promise<{ hooks: RecoveryHooks; heard: Heard; attemptEnds: string[] }> {
  const heard: Heard = { adopted: [], ended: [], moved: [] };
  const attemptEnds: string[] = [];
  worker = new Worker({
    workerId: 'w1',
    store: h.store,
    vault,
    clock: Date.now,
    logger,
    metrics: new PlatformMetrics(),
    maxCalls: 100,
    onAttemptEnded: (end) => attemptEnds.push(`${end.attemptId}:${end.outcome}`),
    onTasksMoved: () => {},
  });
  const node = sim!.nodes[0]!;
  worker.setSwitches([{ id: 'sw1', name: 'fs-1', host: node.host, port: node.port, password: 'ClueCon' }]);
  expect(await worker.waitForSwitches(5_000)).toEqual([]);
  const hooks: RecoveryHooks = {
    adoptCall: (attempt) => heard.adopted.push(attempt.id),
    attemptEnded: (end) => heard.ended.push({ attemptId: end.attemptId, outcome: end.outcome }),
    tasksSubmitted: (campaignId) => heard.moved.push(campaignId),
  };
  return { hooks, heard, attemptEnds };
}

async function attemptOf(taskId: string) {
  const task = await h.store.tasks.get('acme', taskId);
  return { task, attempt: task?.attempts[0] };
}

describe('recovery with call records', () => {
  it('ends calls that ended unwatched with their recorded outcome: busy is retried by policy, answered never', async () => {
    const busy = await placedByDeadWorker('busygw');
    const answered = await placedByDeadWorker('answergw');
    const silent = await claimedAttempt('busygw'); // its originate never reached the switch
    await Promise.all([callEnded(busy.attemptId), callEnded(answered.attemptId)]);
    await Promise.all([recordStored(busy.attemptId), recordStored(answered.attemptId)]);

    const { hooks, heard, attemptEnds } = await startWorker();
    recovery = new CallRecovery({ store: h.store, worker: worker!, hooks, logger, callRecords: records });
    const report = await recovery.recover();
    expect(report.settled.sort()).toEqual([busy.attemptId, answered.attemptId].sort());
    expect(report.followed).toEqual([silent.attemptId]);
    expect(report.awaiting).toEqual([]);

    const busyRecord = (await records.get(busy.attemptId))!;
    const b = await attemptOf(busy.taskId);
    expect(b.attempt).toMatchObject({
      status: 'ended',
      outcome: 'busy',
      hangupCause: 'USER_BUSY',
      sipCode: 486,
      mayHaveReachedCallee: true,
      endedAt: busyRecord.endedAtMs,
    });
    // maxAttempts 2, busy after 300 s: queued again, counted from when the call really ended.
    expect(b.task).toMatchObject({
      status: 'queued',
      attemptCount: 1,
      notBefore: busyRecord.endedAtMs + 300_000,
    });

    const a = await attemptOf(answered.taskId);
    expect(a.attempt).toMatchObject({ status: 'ended', outcome: 'answered', hangupCause: 'NORMAL_CLEARING' });
    expect(a.task).toMatchObject({ status: 'completed', outcome: 'answered' });

    // The attempt with no record and no call on the switch: evidence lost, today's rule.
    await eventually(
      async () => ((await attemptOf(silent.taskId)).attempt?.status === 'ended' ? true : undefined),
      10_000,
      'the silent attempt to end',
    );
    await worker!.flush();
    const s = await attemptOf(silent.taskId);
    expect(s.attempt).toMatchObject({ outcome: 'unknown', mayHaveReachedCallee: true });
    expect(s.task?.status).toBe('completed');

    // The scheduler heard of the settled ones (slots, line health, requeued task); only the
    // followed one had its slots held again.
    expect(heard.ended.map((e) => e.outcome).sort()).toEqual(['answered', 'busy']);
    expect(heard.moved).toEqual(['c1']);
    expect(heard.adopted).toEqual([silent.attemptId]);
    expect(attemptEnds).toEqual([`${silent.attemptId}:unknown`]);
  });

  it('ends not_dialed, and queues again at once, an attempt its worker was never cleared to send', async () => {
    const unsent = await claimedAttempt('busygw', { originated: false });
    const cleared = await claimedAttempt('busygw', { originated: false });
    // Cleared (the write-ahead is durable) but the worker died before the bytes left: maybe sent.
    expect(await h.store.dispatch.markSending([cleared.attemptId], 'w1', Date.now())).toEqual([true]);

    const { hooks, heard, attemptEnds } = await startWorker();
    recovery = new CallRecovery({ store: h.store, worker: worker!, hooks, logger, callRecords: records });
    const report = await recovery.recover();
    expect(report).toEqual({
      notDialed: [unsent.attemptId],
      followed: [cleared.attemptId],
      settled: [],
      awaiting: [],
    });
    const u = await attemptOf(unsent.taskId);
    expect(u.attempt).toMatchObject({ status: 'ended', outcome: 'not_dialed', mayHaveReachedCallee: false });
    expect(u.task).toMatchObject({ status: 'queued', attemptCount: 0, notDialedCount: 1 });
    expect(heard.ended).toEqual([{ attemptId: unsent.attemptId, outcome: 'not_dialed' }]);
    expect(heard.moved).toEqual(['c1']);
    expect(heard.adopted).toEqual([cleared.attemptId]);
    // The cleared one is not on its switch and has no record: it may have rung, so `unknown`.
    await eventually(() => (attemptEnds.length > 0 ? true : undefined), 10_000, 'the cleared attempt to end');
    expect(attemptEnds).toEqual([`${cleared.attemptId}:unknown`]);
    expect(sim!.groundTruth.entries().filter((e) => e.type === 'originate')).toEqual([]);
  });

  it('never sends a call taken over by another worker before its write-ahead (a paused worker resuming)', async () => {
    const mine = await claimedAttempt('busygw', { originated: false });
    // w1's order, but while w1 was paused its calls went to w2: the attempt is w2's now.
    const takenOver = await claimedAttempt('busygw', { originated: false, workerId: 'w2' });
    const { attemptEnds } = await startWorker(h.vault);
    worker!.dial(orderOf(takenOver));
    worker!.dial(orderOf(mine));
    await eventually(
      () => (sim!.groundTruth.entries().some((e) => e.type === 'hangup') ? true : undefined),
      10_000,
      'the call w1 still owns to be placed and end',
    );
    const originated = sim!.groundTruth.entries().flatMap((e) => (e.type === 'originate' ? [e.uuid] : []));
    expect(originated).toEqual([mine.attemptId]);
    expect(worker!.isFollowing(takenOver.attemptId)).toBe(false);
    await eventually(() => (attemptEnds.length > 0 ? true : undefined), 10_000, 'w1 to end its own call');
    expect(attemptEnds).toEqual([`${mine.attemptId}:busy`]);
    // The taken-over attempt is untouched: open, w2's, never cleared to send.
    const open = await h.store.dispatch.openAttempts('w2');
    expect(open.map((a) => [a.id, a.sendingAt])).toEqual([[takenOver.attemptId, null]]);
  });

  it('follows a call still live on its switch to its real end', async () => {
    const live = await placedByDeadWorker('holdgw');
    await eventually(
      () =>
        sim!.groundTruth.entries().some((e) => e.type === 'answer' && e.uuid === live.attemptId)
          ? true
          : undefined,
      10_000,
      'the call to be answered',
    );
    const { hooks, heard, attemptEnds } = await startWorker();
    recovery = new CallRecovery({
      store: h.store,
      worker: worker!,
      hooks,
      logger,
      callRecords: records,
      callRecordWaitMs: 5_000,
    });
    const report = await recovery.recover();
    expect(report).toEqual({ notDialed: [], followed: [live.attemptId], settled: [], awaiting: [] });
    expect(heard.adopted).toEqual([live.attemptId]);
    const wire = wires[0]!;
    await wire.command(`api uuid_kill ${live.attemptId}`);
    await eventually(
      () => (attemptEnds.length > 0 ? true : undefined),
      10_000,
      'the worker to see the hang-up',
    );
    expect(attemptEnds).toEqual([`${live.attemptId}:answered`]);
  });

  it('waits for a record that arrives late (the switch retrying while the platform was down)', async () => {
    door.down = true;
    const busy = await placedByDeadWorker('busygw');
    const lost = await claimedAttempt('answergw');
    await callEnded(busy.attemptId);
    expect(await records.get(busy.attemptId)).toBeUndefined();

    const { hooks, heard, attemptEnds } = await startWorker();
    recovery = new CallRecovery({
      store: h.store,
      worker: worker!,
      hooks,
      logger,
      callRecords: records,
      callRecordWaitMs: 1_500,
      callRecordPollMs: 25,
    });
    const report = await recovery.recover();
    expect(report.awaiting.sort()).toEqual([busy.attemptId, lost.attemptId].sort());
    expect(heard.adopted.sort()).toEqual([busy.attemptId, lost.attemptId].sort());

    door.down = false; // the API listens: the switch's next retry gets through
    await recovery.idle();
    await worker!.flush();
    expect((await attemptOf(busy.taskId)).attempt).toMatchObject({
      outcome: 'busy',
      hangupCause: 'USER_BUSY',
    });
    expect(heard.ended).toEqual([{ attemptId: busy.attemptId, outcome: 'busy' }]);
    // No record ever came for the other: after the wait, the worker's look-up ends it unknown.
    await eventually(() => (attemptEnds.length > 0 ? true : undefined), 10_000, 'the lost attempt to end');
    expect(attemptEnds).toEqual([`${lost.attemptId}:unknown`]);
  });
});
