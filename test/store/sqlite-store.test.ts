import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/domain/ids.js';
import { DEFAULT_RETRY_POLICY } from '../../src/domain/retry-policy.js';
import { ConflictError, type NewTask, type Store } from '../../src/store/contract.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { makeTempDir } from '../support/temp-dir.js';

const dir = makeTempDir();
afterAll(() => dir.remove());

let store: Store;
let n = 0;
const now = 1_800_000_000_000;

async function seed(s: Store) {
  await s.tenants.ensure({ id: 'acme', name: 'Acme' }, now);
  await s.tenants.ensure({ id: 'other', name: 'Other' }, now);
  await s.resources.createSwitch(
    {
      id: 'sw1',
      name: 'sw1',
      eslHost: '127.0.0.1',
      eslPort: 8021,
      eslPasswordSealed: 'sealed',
      maxSessions: 100,
      maxCaps: 10,
      enabled: true,
    },
    now,
  );
  await s.resources.createGateway(
    { id: 'gw1', name: 'carrier1', switchIds: ['sw1'], maxCaps: null, maxConcurrent: null, enabled: true },
    now,
  );
  await s.resources.createLine(
    {
      id: 'l1',
      name: 'line-1',
      gatewayId: 'gw1',
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
  await s.campaigns.create(
    {
      id: 'c1',
      tenantId: 'acme',
      name: 'Renewals',
      weight: 1,
      lineIds: ['l1'],
      defaultRegion: 'CN',
      callerId: null,
      retryPolicy: DEFAULT_RETRY_POLICY,
      ringTimeoutSec: 30,
      maxCallDurationSec: 600,
      caps: null,
      maxConcurrent: null,
    },
    now,
  );
}

function task(index: string, extra: Partial<NewTask> = {}): NewTask {
  return {
    id: uuidv7(now + n++),
    tenantId: 'acme',
    campaignId: 'c1',
    numberSealed: `sealed-${index}`,
    numberIndex: `idx-${index}`,
    numberMasked: '+86***',
    variables: { name: 'x' },
    priority: 0,
    notBefore: now,
    expiresAt: null,
    externalRef: null,
    ...extra,
  };
}

beforeEach(async () => {
  store = openSqliteStore(join(dir.path, `t${n++}.db`));
  await seed(store);
});

describe('sqlite store', () => {
  it('keeps campaigns tenant-scoped', async () => {
    expect(await store.campaigns.get('acme', 'c1')).toMatchObject({
      id: 'c1',
      lineIds: ['l1'],
      status: 'active',
    });
    expect(await store.campaigns.get('other', 'c1')).toBeUndefined();
  });

  it('skips duplicates of open tasks, within the batch and against the table', async () => {
    const first = await store.tasks.insertMany([task('a'), task('b'), task('a')], {
      skipDuplicates: true,
      nowMs: now,
    });
    expect(first.duplicates).toEqual([2]);
    const second = await store.tasks.insertMany([task('b'), task('c')], { skipDuplicates: true, nowMs: now });
    expect(second.duplicates).toEqual([0]);
    const page = await store.tasks.list('acme', { campaignId: 'c1' }, { limit: 10 });
    expect(page.items).toHaveLength(3);
  });

  it('claims a task only with its current version (optimistic lock, R3.7)', async () => {
    const t = task('a');
    await store.tasks.insertMany([t], { skipDuplicates: false, nowMs: now });
    const [due] = await store.dispatch.dueTasks('c1', now, 10);
    const attempt = {
      taskId: t.id,
      campaignId: 'c1',
      tenantId: 'acme',
      workerId: 'w1',
      switchId: 'sw1',
      gatewayId: 'gw1',
      lineId: 'l1',
      callerId: '1001',
    };
    const claims = [
      { taskId: t.id, expectedVersion: due!.version, attempt: { ...attempt, id: uuidv7() } },
      { taskId: t.id, expectedVersion: due!.version, attempt: { ...attempt, id: uuidv7() } },
    ];
    expect(await store.dispatch.claim(claims, now)).toEqual([true, false]);
    expect(await store.dispatch.dueTasks('c1', now, 10)).toEqual([]);
    const stored = await store.tasks.get('acme', t.id);
    expect(stored?.status).toBe('dialing');
    expect(stored?.attempts).toHaveLength(1);
  });

  it('orders the queue by priority, then due time, and hides future tasks', async () => {
    const low = task('low', { priority: 0 });
    const high = task('high', { priority: 5 });
    const later = task('later', { priority: 9, notBefore: now + 60_000 });
    await store.tasks.insertMany([low, high, later], { skipDuplicates: false, nowMs: now });
    expect((await store.dispatch.dueTasks('c1', now, 10)).map((d) => d.id)).toEqual([high.id, low.id]);
    expect(await store.dispatch.nextDueAt('c1', now)).toBe(now + 60_000);
    expect(await store.dispatch.nextDueAt('c1', now + 60_000)).toBeNull();
  });

  it('finishes an attempt and requeues or completes its task; a duplicate ending changes nothing', async () => {
    const t = task('a');
    await store.tasks.insertMany([t], { skipDuplicates: false, nowMs: now });
    const attemptId = uuidv7();
    await store.dispatch.claim(
      [
        {
          taskId: t.id,
          expectedVersion: 1,
          attempt: {
            id: attemptId,
            taskId: t.id,
            campaignId: 'c1',
            tenantId: 'acme',
            workerId: 'w1',
            switchId: 'sw1',
            gatewayId: 'gw1',
            lineId: 'l1',
            callerId: null,
          },
        },
      ],
      now,
    );
    await store.dispatch.recordProgress([
      { attemptId, status: 'ringing', atMs: now + 10 },
      { attemptId, status: 'originated', atMs: now + 5 },
    ]);
    expect((await store.dispatch.openAttempts('w1'))[0]).toMatchObject({
      status: 'ringing',
      originatedAt: now + 5,
      ringingAt: now + 10,
    });
    const ending = {
      attemptId,
      taskId: t.id,
      endedAtMs: now + 20,
      hangupCause: 'USER_BUSY',
      sipCode: 486,
      outcome: 'busy' as const,
      mayHaveReachedCallee: true,
      next: { status: 'queued' as const, notBefore: now + 300_000 },
      countsAsAttempt: true,
    };
    await store.dispatch.finish([ending], now + 20);
    await store.dispatch.finish([{ ...ending, next: { status: 'completed', outcome: 'busy' } }], now + 30);
    const stored = await store.tasks.get('acme', t.id);
    expect(stored).toMatchObject({
      status: 'queued',
      attemptCount: 1,
      notBefore: now + 300_000,
      outcome: null,
    });
    expect(stored?.attempts[0]).toMatchObject({
      status: 'ended',
      outcome: 'busy',
      sipCode: 486,
      mayHaveReachedCallee: true,
    });
    expect(await store.dispatch.openAttempts()).toEqual([]);
  });

  it('cancels only queued tasks, and a cancelled campaign takes its queue with it', async () => {
    const a = task('a');
    const b = task('b');
    await store.tasks.insertMany([a, b], { skipDuplicates: false, nowMs: now });
    await store.dispatch.claim(
      [
        {
          taskId: b.id,
          expectedVersion: 1,
          attempt: {
            id: uuidv7(),
            taskId: b.id,
            campaignId: 'c1',
            tenantId: 'acme',
            workerId: 'w1',
            switchId: 'sw1',
            gatewayId: 'gw1',
            lineId: 'l1',
            callerId: null,
          },
        },
      ],
      now,
    );
    await expect(store.tasks.cancel('acme', b.id, now)).rejects.toBeInstanceOf(ConflictError);
    await store.campaigns.setStatus('acme', 'c1', 'cancelled', now);
    expect((await store.tasks.get('acme', a.id))?.status).toBe('cancelled');
    expect((await store.tasks.get('acme', b.id))?.status).toBe('dialing');
    await expect(store.campaigns.setStatus('acme', 'c1', 'active', now)).rejects.toMatchObject({
      code: 'campaign_cancelled',
    });
  });

  it('refuses to delete a line a campaign uses, and paginates with a cursor', async () => {
    await expect(store.resources.deleteLine('l1')).rejects.toMatchObject({ code: 'resource_in_use' });
    await store.tasks.insertMany(
      Array.from({ length: 25 }, (_, i) => task(`p${i}`)),
      { skipDuplicates: false, nowMs: now },
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.tasks.list('acme', {}, { limit: 10, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(new Set(seen).size).toBe(25);
    expect((await store.tasks.list('other', {}, { limit: 10 })).items).toEqual([]);
  });
});
