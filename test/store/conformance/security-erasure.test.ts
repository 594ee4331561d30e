import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskPhoneNumber } from '../../../src/domain/phone-number.js';
import { DEFAULT_RETRY_POLICY } from '../../../src/domain/retry-policy.js';
import { NumberVault } from '../../../src/security/number-vault.js';
import { NotFoundError, type Store } from '../../../src/store/contract.js';
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from '../../support/postgres.js';
import { storeKinds } from '../../support/stores.js';

/**
 * Erasure by number, by task and by tenant — tasks and their attempts (the call records), one
 * transaction, the same report — and suppressions, on every store. Each test seeds its own
 * tenant, so they share one store per kind. SQLite's file-bytes scan is in
 * test/security/erasure.test.ts; PostgreSQL's table scan is at the end here.
 */
const NOW = 1_800_000_000_000;
const kinds = await storeKinds();

const vault = new NumberVault({
  activeKeyId: 'k1',
  encryptionKeys: new Map([['k1', randomBytes(32)]]),
  indexKey: randomBytes(32),
});
const ERASED = '+8613800004242';
const KEPT = '+8613800004343';

interface Seeded {
  attemptId: string;
  campaignIds: [string, string];
  /** The erased number's tasks: in the first campaign, and in the second with an ended attempt. */
  erasedTaskIds: [string, string];
  keptTaskId: string;
  sealed: string[];
}

let taskCounter = 0;

/** A tenant with two campaigns, the erased number in both (one attempted), the kept one in the first. */
async function seed(store: Store, tenantId: string): Promise<Seeded> {
  await store.tenants.ensure({ id: tenantId, name: tenantId }, NOW);
  const campaignIds: [string, string] = [`${tenantId}-c1`, `${tenantId}-c2`];
  for (const id of campaignIds) {
    await store.campaigns.create(
      {
        id,
        tenantId,
        name: id,
        weight: 1,
        lineIds: [],
        defaultRegion: 'CN',
        callerId: null,
        retryPolicy: DEFAULT_RETRY_POLICY,
        ringTimeoutSec: 30,
        maxCallDurationSec: 60,
        caps: null,
        maxConcurrent: null,
      },
      NOW,
    );
  }
  const entries = [
    { campaignId: campaignIds[0], number: ERASED },
    { campaignId: campaignIds[1], number: ERASED },
    { campaignId: campaignIds[0], number: KEPT },
  ];
  const tasks = entries.map(({ campaignId, number }) => ({
    id: `${tenantId}-t${String(taskCounter++).padStart(4, '0')}`,
    tenantId,
    campaignId,
    numberSealed: vault.encrypt(number),
    numberIndex: vault.index(number),
    numberMasked: maskPhoneNumber(number),
    variables: {},
    priority: 0,
    notBefore: NOW,
    expiresAt: null,
    externalRef: null,
  }));
  await store.tasks.insertMany(tasks, { skipDuplicates: false, nowMs: NOW });
  const [due] = await store.dispatch.dueTasks(campaignIds[1], NOW, 1);
  const attemptId = `${tenantId}-attempt`;
  const attempt = {
    id: attemptId,
    taskId: due!.id,
    campaignId: campaignIds[1],
    tenantId,
    workerId: 'w1',
    switchId: 's1',
    gatewayId: 'g1',
    lineId: 'l1',
    callerId: null,
  };
  expect(
    await store.dispatch.claim([{ taskId: due!.id, expectedVersion: due!.version, attempt }], NOW),
  ).toEqual([true]);
  await store.dispatch.finish(
    [
      {
        attemptId,
        taskId: due!.id,
        endedAtMs: NOW + 1000,
        hangupCause: 'NO_ANSWER',
        sipCode: 480,
        outcome: 'no_answer',
        mayHaveReachedCallee: true,
        next: { status: 'completed', outcome: 'no_answer' },
        countsAsAttempt: true,
      },
    ],
    NOW + 1000,
  );
  expect((await store.tasks.get(tenantId, due!.id))!.attempts).toHaveLength(1);
  // The switch's record of that call (no number in it, but its times by attempt).
  expect(
    await store.callRecords.put(
      [
        {
          callUuid: attemptId,
          attemptId,
          workerTag: 'w1',
          switchName: 's1',
          coreUuid: null,
          hangupCause: 'NO_ANSWER',
          q850: 19,
          sipCode: 480,
          startedAtMs: NOW,
          answeredAtMs: null,
          endedAtMs: NOW + 1000,
          billsecMs: 0,
          durationMs: 1000,
        },
      ],
      NOW + 1001,
    ),
  ).toEqual([true]);
  return {
    attemptId,
    campaignIds,
    erasedTaskIds: [tasks[0]!.id, tasks[1]!.id],
    keptTaskId: tasks[2]!.id,
    sealed: tasks.slice(0, 2).map((t) => t.numberSealed),
  };
}

describe.each(kinds.map((kind) => [kind.name, kind] as const))('%s: erasure', (_name, kind) => {
  let store: Store;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ store, dispose } = await kind.open());
  });
  afterAll(() => dispose());

  it('by number: every task of the tenant holding it and their attempts, nothing else', async () => {
    const seeded = await seed(store, 'num');
    const neighbour = await seed(store, 'num-neighbour');
    const report = await store.erasure.erase(
      { kind: 'number', tenantId: 'num', numberIndex: vault.index(ERASED) },
      { suppress: false, nowMs: NOW + 5000 },
    );
    expect(report).toEqual({ tasks: 2, attempts: 1, callRecords: 1, campaignsCancelled: 0, suppressed: 0 });
    for (const id of seeded.erasedTaskIds) expect(await store.tasks.get('num', id)).toBeUndefined();
    expect(await store.tasks.get('num', seeded.keptTaskId)).toBeDefined();
    expect(await store.callRecords.get(seeded.attemptId)).toBeUndefined();
    expect(await store.callRecords.get(neighbour.attemptId)).toBeDefined();
    // another tenant's copy of the number is its own
    expect(await store.tasks.get('num-neighbour', neighbour.erasedTaskIds[1])).toBeDefined();
    expect(await store.erasure.suppressed('num', [vault.index(ERASED)])).toEqual(new Set());
    expect((await store.campaigns.get('num', seeded.campaignIds[0]))!.status).not.toBe('cancelled');
  });

  it('by number with suppression: the blind index is kept for that tenant only, even with no task left', async () => {
    await seed(store, 'sup');
    const report = await store.erasure.erase(
      { kind: 'number', tenantId: 'sup', numberIndex: vault.index(ERASED) },
      { suppress: true, nowMs: NOW + 5000 },
    );
    expect(report).toEqual({ tasks: 2, attempts: 1, callRecords: 1, campaignsCancelled: 0, suppressed: 1 });
    const asked = [vault.index(ERASED), vault.index(KEPT), vault.index(ERASED)];
    expect(await store.erasure.suppressed('sup', asked)).toEqual(new Set([vault.index(ERASED)]));
    expect(await store.erasure.suppressed('num', asked)).toEqual(new Set());
    expect(await store.erasure.suppressed('sup', [])).toEqual(new Set());
    // a number no task holds is suppressed all the same; suppressing it again adds nothing
    const absent = vault.index('+8613800009999');
    const alone = { kind: 'number', tenantId: 'sup', numberIndex: absent } as const;
    expect(await store.erasure.erase(alone, { suppress: true, nowMs: NOW })).toEqual({
      tasks: 0,
      attempts: 0,
      callRecords: 0,
      campaignsCancelled: 0,
      suppressed: 1,
    });
    expect((await store.erasure.erase(alone, { suppress: true, nowMs: NOW })).suppressed).toBe(0);
    expect(await store.erasure.suppressed('sup', [absent])).toEqual(new Set([absent]));
  });

  it('by task: that task and its attempts; an unknown or foreign task is NotFound and erases nothing', async () => {
    const seeded = await seed(store, 'task');
    await seed(store, 'task-foreign');
    const report = await store.erasure.erase(
      { kind: 'task', tenantId: 'task', taskId: seeded.erasedTaskIds[1] },
      { suppress: true, nowMs: NOW },
    );
    expect(report).toEqual({ tasks: 1, attempts: 1, callRecords: 1, campaignsCancelled: 0, suppressed: 1 });
    expect(await store.tasks.get('task', seeded.erasedTaskIds[0])).toBeDefined();
    const again = store.erasure.erase(
      { kind: 'task', tenantId: 'task', taskId: seeded.erasedTaskIds[1] },
      { suppress: true, nowMs: NOW },
    );
    await expect(again).rejects.toBeInstanceOf(NotFoundError);
    await expect(again).rejects.toMatchObject({ code: 'not_found' });
    const foreign = store.erasure.erase(
      { kind: 'task', tenantId: 'task-foreign', taskId: seeded.erasedTaskIds[0] },
      { suppress: true, nowMs: NOW },
    );
    await expect(foreign).rejects.toBeInstanceOf(NotFoundError);
    expect(await store.tasks.get('task', seeded.erasedTaskIds[0])).toBeDefined();
    expect(await store.erasure.suppressed('task-foreign', [vault.index(ERASED)])).toEqual(new Set());
  });

  it('by tenant: all its tasks and attempts, its campaigns cancelled; other tenants untouched', async () => {
    const seeded = await seed(store, 'whole');
    const other = await seed(store, 'whole-other');
    const report = await store.erasure.erase(
      { kind: 'tenant', tenantId: 'whole' },
      { suppress: false, nowMs: NOW + 9 },
    );
    expect(report).toEqual({ tasks: 3, attempts: 1, callRecords: 1, campaignsCancelled: 2, suppressed: 0 });
    for (const id of seeded.campaignIds) {
      expect(await store.campaigns.get('whole', id)).toMatchObject({
        status: 'cancelled',
        updatedAt: NOW + 9,
      });
    }
    expect((await store.tasks.list('whole', {}, { limit: 10 })).items).toEqual([]);
    expect((await store.tasks.list('whole-other', {}, { limit: 10 })).items).toHaveLength(3);
    expect(await store.tasks.get('whole-other', other.erasedTaskIds[1])).toMatchObject({
      attempts: [expect.objectContaining({ id: 'whole-other-attempt' })],
    });
    // cancelled campaigns are not cancelled twice
    expect(
      await store.erasure.erase({ kind: 'tenant', tenantId: 'whole' }, { suppress: false, nowMs: NOW + 10 }),
    ).toEqual({ tasks: 0, attempts: 0, callRecords: 0, campaignsCancelled: 0, suppressed: 0 });
  });
});

const postgres = kinds.find((kind) => kind.name === 'postgres');

describe.skipIf(!postgres)('postgres: what an erasure leaves in the tables', () => {
  const schema = freshSchemaName('erasure');
  let store: Store;
  let raw: pg.Client;

  beforeAll(async () => {
    const { openPostgresStore } = await import('../../../src/store/postgres/index.js');
    store = await openPostgresStore({ url: TEST_DATABASE_URL, schema, max: 2 });
    raw = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await raw.connect();
  });
  afterAll(async () => {
    await raw?.end();
    await store?.close();
    await dropSchema(schema);
  });

  /** Every text value of every column of every table in the store's schema (partitions included). */
  async function everyTextValue(): Promise<Array<{ where: string; value: string }>> {
    const columns = await raw.query<{ table_name: string; column_name: string }>(
      `SELECT c.table_name, c.column_name FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
       WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE' AND c.data_type IN ('text', 'character varying')`,
      [schema],
    );
    const found: Array<{ where: string; value: string }> = [];
    for (const { table_name: table, column_name: column } of columns.rows) {
      const { rows } = await raw.query<{ value: string }>(
        `SELECT "${column}" AS value FROM "${schema}"."${table}" WHERE "${column}" IS NOT NULL`,
      );
      for (const { value } of rows) found.push({ where: `${table}.${column}`, value });
    }
    return found;
  }

  it('never holds a number in clear, and after erasure not its ciphertext, mask or index either', async () => {
    const seeded = await seed(store, 'scan');
    const clear = [ERASED, ERASED.slice(1), ERASED.slice(3), KEPT, KEPT.slice(3)];
    expect((await everyTextValue()).filter(({ value }) => clear.some((c) => value.includes(c)))).toEqual([]);

    await store.erasure.erase(
      { kind: 'number', tenantId: 'scan', numberIndex: vault.index(ERASED) },
      { suppress: false, nowMs: NOW },
    );
    const traces = [...seeded.sealed, vault.index(ERASED), maskPhoneNumber(ERASED)];
    const values = await everyTextValue();
    expect(values.filter(({ value }) => traces.some((t) => value.includes(t)))).toEqual([]);
    // what is kept is still there
    expect(values.some(({ value }) => value === vault.index(KEPT))).toBe(true);

    await store.erasure.erase(
      { kind: 'task', tenantId: 'scan', taskId: seeded.keptTaskId },
      { suppress: true, nowMs: NOW },
    );
    const withIndex = (await everyTextValue()).filter(({ value }) => value.includes(vault.index(KEPT)));
    expect(withIndex.map((f) => f.where)).toEqual(['suppressions.number_index']);
  });
});
