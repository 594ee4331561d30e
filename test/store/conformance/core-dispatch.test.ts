import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../../src/domain/ids.js';
import type { AttemptEnding } from '../../../src/store/contract.js';
import { storeKinds } from '../../support/stores.js';
import { busyEnding, claimOf, freshStorePerTest, NOW, task } from './core-fixtures.js';

/** The hot path — queue heads, claims, progress and endings in batches — the same on every store. */
const kinds = await storeKinds();

describe.each(kinds.map((kind) => [kind.name, kind] as const))('%s: core dispatch', (_name, kind) => {
  const world = freshStorePerTest(kind);

  it('claims a task only with its current version (optimistic lock, R3.7)', async () => {
    const { store } = world;
    const t = task('a');
    await store.tasks.insertMany([t], { skipDuplicates: false, nowMs: NOW });
    const [due] = await store.dispatch.dueTasks('c1', NOW, 10);
    const claims = [claimOf(t, due!.version), claimOf(t, due!.version)];
    expect(await store.dispatch.claim(claims, NOW)).toEqual([true, false]);
    expect(await store.dispatch.dueTasks('c1', NOW, 10)).toEqual([]);
    const stored = await store.tasks.get('acme', t.id);
    expect(stored?.status).toBe('dialing');
    expect(stored?.version).toBe(2);
    expect(stored?.attempts).toHaveLength(1);
    expect(stored?.attempts[0]).toMatchObject({
      id: claims[0]!.attempt.id,
      status: 'created',
      createdAt: NOW,
    });
  });

  it('gives a task to the first claim, in order, that carries its current version', async () => {
    const { store } = world;
    const [a, b, gone] = [task('a'), task('b'), task('gone')];
    await store.tasks.insertMany([a, b, gone], { skipDuplicates: false, nowMs: NOW });
    await store.tasks.cancel('acme', gone.id, NOW);
    const claims = [
      claimOf(a, 5),
      claimOf(b, 1),
      claimOf(a, 1),
      claimOf(a, 1),
      claimOf(gone, 2),
      claimOf(gone, 1),
    ];
    expect(await store.dispatch.claim(claims, NOW)).toEqual([false, true, true, false, false, false]);
    const attemptsOf = async (id: string) => (await store.tasks.get('acme', id))!.attempts.map((x) => x.id);
    expect(await attemptsOf(a.id)).toEqual([claims[2]!.attempt.id]);
    expect(await attemptsOf(b.id)).toEqual([claims[1]!.attempt.id]);
    expect(await attemptsOf(gone.id)).toEqual([]);
    expect(await store.dispatch.claim([], NOW)).toEqual([]);
  });

  it('orders the queue by priority, then due time, then age, and hides future tasks', async () => {
    const { store } = world;
    const low = task('low', { priority: 0 });
    const high = task('high', { priority: 5 });
    const highEarlier = task('high-earlier', { priority: 5, notBefore: NOW - 1_000 });
    const lowYounger = task('low-younger', { priority: 0 });
    const later = task('later', { priority: 9, notBefore: NOW + 60_000 });
    await store.tasks.insertMany([lowYounger, low, high, later, highEarlier], {
      skipDuplicates: false,
      nowMs: NOW,
    });
    expect((await store.dispatch.dueTasks('c1', NOW, 10)).map((d) => d.id)).toEqual([
      highEarlier.id,
      high.id,
      low.id,
      lowYounger.id,
    ]);
    expect((await store.dispatch.dueTasks('c1', NOW, 2)).map((d) => d.id)).toEqual([highEarlier.id, high.id]);
    expect((await store.dispatch.dueTasks('c1', NOW, 1))[0]).toEqual({
      id: highEarlier.id,
      version: 1,
      priority: 5,
      notBefore: NOW - 1_000,
      expiresAt: null,
      numberSealed: 'sealed-high-earlier',
      numberMasked: '+86***',
      variables: { name: 'x' },
      attemptCount: 0,
      notDialedCount: 0,
    });
    expect(await store.dispatch.nextDueAt('c1', NOW)).toBe(NOW + 60_000);
    expect(await store.dispatch.nextDueAt('c1', NOW + 60_000)).toBeNull();
    expect(await store.dispatch.dueTasks('no-such-campaign', NOW, 10)).toEqual([]);
  });

  it('finishes an attempt and requeues or completes its task; a duplicate ending changes nothing', async () => {
    const { store } = world;
    const t = task('a');
    await store.tasks.insertMany([t], { skipDuplicates: false, nowMs: NOW });
    const claim = claimOf(t);
    const attemptId = claim.attempt.id;
    await store.dispatch.claim([claim], NOW);
    await store.dispatch.recordProgress([
      { attemptId, status: 'ringing', atMs: NOW + 10 },
      { attemptId, status: 'originated', atMs: NOW + 5 },
    ]);
    expect((await store.dispatch.openAttempts('w1'))[0]).toMatchObject({
      status: 'ringing',
      originatedAt: NOW + 5,
      ringingAt: NOW + 10,
    });
    const ending = {
      ...busyEnding(claim, NOW + 20),
      next: { status: 'queued' as const, notBefore: NOW + 300_000 },
    };
    await store.dispatch.finish([ending], NOW + 20);
    await store.dispatch.finish([{ ...ending, next: { status: 'completed', outcome: 'busy' } }], NOW + 30);
    const stored = await store.tasks.get('acme', t.id);
    expect(stored).toMatchObject({
      status: 'queued',
      attemptCount: 1,
      notBefore: NOW + 300_000,
      outcome: null,
      version: 3,
      updatedAt: NOW + 20,
    });
    expect(stored?.attempts[0]).toMatchObject({
      status: 'ended',
      endedAt: NOW + 20,
      hangupCause: 'USER_BUSY',
      outcome: 'busy',
      sipCode: 486,
      mayHaveReachedCallee: true,
    });
    expect(await store.dispatch.openAttempts()).toEqual([]);
  });

  it('records progress in batches: each stage time set once, the status never moving backwards', async () => {
    const { store } = world;
    const tasks = [task('a'), task('b'), task('c')];
    await store.tasks.insertMany(tasks, { skipDuplicates: false, nowMs: NOW });
    const claims = tasks.map((t) => claimOf(t));
    await store.dispatch.claim(claims, NOW);
    const [a, b, c] = claims.map((x) => x.attempt.id) as [string, string, string];
    await store.dispatch.recordProgress([
      { attemptId: a, status: 'answered', atMs: NOW + 30 },
      { attemptId: b, status: 'originated', atMs: NOW + 1 },
      { attemptId: a, status: 'ringing', atMs: NOW + 20 },
      { attemptId: b, status: 'originated', atMs: NOW + 2 },
      { attemptId: 'no-such-attempt', status: 'ringing', atMs: NOW },
    ]);
    // A later batch: an earlier stage still fills its time, but moves nothing back; c jumps stages.
    await store.dispatch.recordProgress([
      { attemptId: a, status: 'originated', atMs: NOW + 10 },
      { attemptId: a, status: 'answered', atMs: NOW + 99 },
      { attemptId: b, status: 'ringing', atMs: NOW + 3 },
      { attemptId: c, status: 'ringing', atMs: NOW + 4 },
    ]);
    const byId = new Map((await store.dispatch.openAttempts()).map((x) => [x.id, x]));
    expect(byId.get(a)).toMatchObject({
      status: 'answered',
      originatedAt: NOW + 10,
      ringingAt: NOW + 20,
      answeredAt: NOW + 30,
    });
    expect(byId.get(b)).toMatchObject({
      status: 'ringing',
      originatedAt: NOW + 1,
      ringingAt: NOW + 3,
      answeredAt: null,
    });
    expect(byId.get(c)).toMatchObject({ status: 'ringing', originatedAt: null, ringingAt: NOW + 4 });
    // An ended attempt stays ended whatever progress arrives late.
    await store.dispatch.finish([busyEnding(claims[2]!, NOW + 50)], NOW + 50);
    await store.dispatch.recordProgress([{ attemptId: c, status: 'answered', atMs: NOW + 60 }]);
    const ended = (await store.tasks.get('acme', tasks[2]!.id))!.attempts[0]!;
    expect(ended.status).toBe('ended');
    expect(await store.dispatch.recordProgress([])).toBeUndefined();
  });

  it('finishes a batch: each task moved once, counters kept, duplicates and ended attempts ignored', async () => {
    const { store } = world;
    const tasks = Array.from({ length: 40 }, (_, i) => task(`n${i}`));
    await store.tasks.insertMany(tasks, { skipDuplicates: false, nowMs: NOW });
    const claims = tasks.map((t) => claimOf(t));
    expect(await store.dispatch.claim(claims, NOW)).toEqual(claims.map(() => true));
    const endings: AttemptEnding[] = claims.map((claim, i) => {
      if (i % 4 === 0)
        return { ...busyEnding(claim, NOW + 10), next: { status: 'completed', outcome: 'busy' } };
      if (i % 4 === 1)
        return {
          ...busyEnding(claim, NOW + 10),
          outcome: 'not_dialed',
          hangupCause: 'NORMAL_TEMPORARY_FAILURE',
          sipCode: null,
          mayHaveReachedCallee: false,
          countsAsAttempt: false,
          next: { status: 'queued', notBefore: NOW + 11 },
        };
      if (i % 4 === 2) return busyEnding(claim, NOW + 10);
      return { ...busyEnding(claim, NOW + 10), next: { status: 'expired', outcome: 'busy' } };
    });
    // The same report twice in one batch: the first one counts.
    await store.dispatch.finish(
      [...endings, { ...endings[0]!, next: { status: 'queued', notBefore: NOW } }],
      NOW + 10,
    );
    const stored = await Promise.all(tasks.map((t) => store.tasks.get('acme', t.id)));
    stored.forEach((t, i) => {
      if (i % 4 === 0) expect(t).toMatchObject({ status: 'completed', outcome: 'busy', attemptCount: 1 });
      if (i % 4 === 1)
        expect(t).toMatchObject({
          status: 'queued',
          notBefore: NOW + 11,
          attemptCount: 0,
          notDialedCount: 1,
        });
      if (i % 4 === 2)
        expect(t).toMatchObject({ status: 'queued', notBefore: NOW + 300_010, attemptCount: 1 });
      if (i % 4 === 3) expect(t).toMatchObject({ status: 'expired', outcome: 'busy', attemptCount: 1 });
      expect(t).toMatchObject({ version: 3, updatedAt: NOW + 10 });
      expect(t!.attempts[0]).toMatchObject({ status: 'ended', endedAt: NOW + 10 });
    });
    // A second not_dialed counts on; a real attempt after it resets the count.
    const retry = tasks[1]!;
    const second = claimOf(retry, 3);
    await store.dispatch.claim([second], NOW + 11);
    await store.dispatch.finish([{ ...endings[1]!, attemptId: second.attempt.id }], NOW + 12);
    expect(await store.tasks.get('acme', retry.id)).toMatchObject({ notDialedCount: 2, attemptCount: 0 });
    const third = claimOf(retry, 5);
    await store.dispatch.claim([third], NOW + 13);
    await store.dispatch.finish([busyEnding(third, NOW + 14)], NOW + 14);
    expect(await store.tasks.get('acme', retry.id)).toMatchObject({ notDialedCount: 0, attemptCount: 1 });
    expect(await store.dispatch.openAttempts()).toEqual([]);
  });

  it('lists open attempts per worker with their task’s counters, oldest first', async () => {
    const { store } = world;
    const [a, b, c] = [task('a', { expiresAt: NOW + 1_000 }), task('b'), task('c')];
    await store.tasks.insertMany([a, b, c], { skipDuplicates: false, nowMs: NOW });
    await store.dispatch.claim([claimOf(b, 1, 'w2')], NOW + 2);
    await store.dispatch.claim([claimOf(a, 1, 'w1')], NOW + 1);
    await store.dispatch.claim([claimOf(c, 1, 'w1')], NOW + 3);
    expect((await store.dispatch.openAttempts('w1')).map((x) => x.taskId)).toEqual([a.id, c.id]);
    expect((await store.dispatch.openAttempts()).map((x) => x.taskId)).toEqual([a.id, b.id, c.id]);
    expect((await store.dispatch.openAttempts('w1'))[0]).toMatchObject({
      workerId: 'w1',
      taskId: a.id,
      campaignId: 'c1',
      tenantId: 'acme',
      switchId: 'sw1',
      gatewayId: 'gw1',
      lineId: 'l1',
      callerId: '1001',
      status: 'created',
      createdAt: NOW + 1,
      mayHaveReachedCallee: null,
      taskVersion: 2,
      taskAttemptCount: 0,
      taskNotDialedCount: 0,
      taskExpiresAt: NOW + 1_000,
      sendingAt: null,
    });
    expect(await store.dispatch.openAttempts('nobody')).toEqual([]);
  });

  it('clears a worker to send only what is still open and still its own (the write-ahead of R3.6)', async () => {
    const { store } = world;
    const [a, b, c] = [task('a'), task('b'), task('c')];
    await store.tasks.insertMany([a, b, c], { skipDuplicates: false, nowMs: NOW });
    const [ca, cb, cc] = [claimOf(a, 1, 'w1'), claimOf(b, 1, 'w1'), claimOf(c, 1, 'w2')];
    await store.dispatch.claim([ca, cb, cc], NOW);
    expect(await store.dispatch.markSending([], 'w1', NOW + 1)).toEqual([]);
    // Another worker's attempt, and one that does not exist, are not cleared.
    expect(
      await store.dispatch.markSending([ca.attempt.id, cc.attempt.id, 'no-such-attempt'], 'w1', NOW + 1),
    ).toEqual([true, false, false]);
    const open = new Map((await store.dispatch.openAttempts()).map((x) => [x.id, x.sendingAt]));
    expect(open).toEqual(
      new Map([
        [ca.attempt.id, NOW + 1],
        [cb.attempt.id, null],
        [cc.attempt.id, null],
      ]),
    );
    // Taken over (its worker seemed gone): the old worker may no longer send it.
    await store.dispatch.takeOver('w1', 'w3');
    expect(await store.dispatch.markSending([cb.attempt.id], 'w1', NOW + 2)).toEqual([false]);
    expect(
      (await store.dispatch.openAttempts('w3')).find((x) => x.id === cb.attempt.id)?.sendingAt,
    ).toBeNull();
    // Ended: nobody may send it.
    await store.dispatch.finish([busyEnding(cc, NOW + 3)], NOW + 3);
    expect(await store.dispatch.markSending([cc.attempt.id], 'w2', NOW + 4)).toEqual([false]);
  });

  it('hands a gone worker’s open attempts to another, once, and counts open attempts per worker', async () => {
    const { store } = world;
    const [a, b, c] = [task('a'), task('b'), task('c')];
    await store.tasks.insertMany([a, b, c], { skipDuplicates: false, nowMs: NOW });
    const ended = claimOf(c, 1, 'w1');
    const [claimedA, claimedB] = [claimOf(a, 1, 'w1'), claimOf(b, 1, 'w2')];
    await store.dispatch.claim([claimedA, claimedB, ended], NOW);
    await store.dispatch.finish([busyEnding(ended, NOW + 5)], NOW + 5);
    expect(await store.dispatch.openAttemptWorkers()).toEqual(
      new Map([
        ['w1', 1],
        ['w2', 1],
      ]),
    );
    expect(await store.dispatch.openAttemptIds()).toEqual(
      new Map([
        [claimedA.attempt.id, 'w1'],
        [claimedB.attempt.id, 'w2'],
      ]),
    );
    expect(await store.dispatch.openAttemptIds('w2')).toEqual(new Map([[claimedB.attempt.id, 'w2']]));
    expect(await store.dispatch.openAttemptIds('w9')).toEqual(new Map());
    const taken = await store.dispatch.takeOver('w1', 'w3');
    expect(taken.map((x) => [x.taskId, x.workerId])).toEqual([[a.id, 'w3']]);
    // A second adopter of the same gone worker finds nothing left to take.
    expect(await store.dispatch.takeOver('w1', 'w2')).toEqual(
      (await store.dispatch.openAttempts('w2')).filter((x) => x.workerId === 'w2'),
    );
    expect((await store.dispatch.openAttempts('w2')).map((x) => x.taskId)).toEqual([b.id]);
    expect(await store.dispatch.openAttemptWorkers()).toEqual(
      new Map([
        ['w2', 1],
        ['w3', 1],
      ]),
    );
    // Taking over one's own calls (a restart) changes nothing and lists them.
    expect((await store.dispatch.takeOver('w3', 'w3')).map((x) => x.taskId)).toEqual([a.id]);
  });

  it('expires queued tasks past their deadline, and counts attempts since a time per tenant', async () => {
    const { store } = world;
    const [soon, later, never, dialing] = [
      task('soon', { expiresAt: NOW + 100 }),
      task('later', { expiresAt: NOW + 10_000 }),
      task('never'),
      task('dialing', { expiresAt: NOW + 100 }),
    ];
    await store.tasks.insertMany([soon, later, never, dialing], { skipDuplicates: false, nowMs: NOW });
    await store.dispatch.claim([claimOf(dialing)], NOW);
    expect(await store.dispatch.expireDue(NOW + 99)).toBe(0);
    expect(await store.dispatch.expireDue(NOW + 100)).toBe(1);
    expect(await store.tasks.get('acme', soon.id)).toMatchObject({ status: 'expired', version: 2 });
    expect((await store.tasks.get('acme', dialing.id))?.status).toBe('dialing');
    expect(await store.dispatch.expireDue(NOW + 100)).toBe(0);

    await store.dispatch.claim([claimOf(later)], NOW + 500);
    await store.dispatch.claim([claimOf(never)], NOW + 1_000);
    expect(await store.dispatch.attemptsSince(NOW)).toEqual(new Map([['acme', 3]]));
    expect(await store.dispatch.attemptsSince(NOW + 500)).toEqual(new Map([['acme', 2]]));
    expect(await store.dispatch.attemptsSince(NOW + 1_001)).toEqual(new Map());
  });

  it('keeps attempts of different months together: a task’s history and open attempts span them', async () => {
    const { store } = world;
    const endOfJanuary = Date.UTC(2027, 0, 31, 23, 59, 59, 999);
    const startOfFebruary = endOfJanuary + 1;
    const startOfMarch = Date.UTC(2027, 2, 1);
    const [a, b] = [
      task('a', { id: uuidv7(endOfJanuary - 10) }),
      task('b', { id: uuidv7(endOfJanuary - 5) }),
    ];
    await store.tasks.insertMany([a, b], { skipDuplicates: false, nowMs: endOfJanuary - 1 });
    const first = claimOf(a);
    await store.dispatch.claim([first], endOfJanuary);
    await store.dispatch.finish([busyEnding(first, startOfFebruary)], startOfFebruary);
    const second = claimOf(a, 3);
    const other = claimOf(b);
    await store.dispatch.claim([second, other], startOfMarch);
    // One batch of progress across the two months' open attempts.
    await store.dispatch.recordProgress([
      { attemptId: second.attempt.id, status: 'ringing', atMs: startOfMarch + 1 },
    ]);
    const history = (await store.tasks.get('acme', a.id))!.attempts;
    expect(history.map((x) => [x.id, x.createdAt, x.status])).toEqual([
      [first.attempt.id, endOfJanuary, 'ended'],
      [second.attempt.id, startOfMarch, 'ringing'],
    ]);
    expect((await store.dispatch.openAttempts()).map((x) => x.id).sort()).toEqual(
      [second.attempt.id, other.attempt.id].sort(),
    );
    expect(await store.dispatch.attemptsSince(startOfFebruary)).toEqual(new Map([['acme', 2]]));
    await store.dispatch.finish(
      [busyEnding(second, startOfMarch + 2), busyEnding(other, startOfMarch + 2)],
      startOfMarch + 2,
    );
    expect(await store.dispatch.openAttempts()).toEqual([]);
  });
});
