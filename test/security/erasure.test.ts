import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { maskPhoneNumber } from '../../src/domain/phone-number.js';
import {
  ACME_KEY,
  chineseMobile,
  createCampaign,
  type Harness,
  makeHarness,
  OTHER_KEY,
} from '../api/harness.js';
import { makeTempDir } from '../support/temp-dir.js';

const dir = makeTempDir();
afterAll(() => dir.remove());

let h: Harness;
beforeEach(async () => {
  h = await makeHarness(dir.path);
});
afterEach(() => h.close());

const ERASED = chineseMobile(4242); // +8613800004242
const KEPT = chineseMobile(4343);

/** Every text value of every column of every table, with where it was found. */
function everyTextValue(dbPath: string): Array<{ where: string; value: string }> {
  const db = new Database(dbPath, { readonly: true });
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as {
      name: string;
    }[];
    return tables.flatMap(({ name }) =>
      (db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]).flatMap((row) =>
        Object.entries(row)
          .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
          .map(([column, value]) => ({ where: `${name}.${column}`, value })),
      ),
    );
  } finally {
    db.close();
  }
}

function rawBytes(dbPath: string): Buffer {
  const files = [dbPath, `${dbPath}-wal`, `${dbPath}-journal`].filter((path) => existsSync(path));
  return Buffer.concat(files.map((path) => readFileSync(path)));
}

async function submit(campaignId: string, number: string, key = ACME_KEY) {
  return h.call({ method: 'POST', url: `/v1/campaigns/${campaignId}/tasks`, key, payload: { number } });
}

/** Two tasks for the erased number (two campaigns), one with an ended attempt; one task kept. */
async function seed() {
  const first = await createCampaign(h);
  const second = await createCampaign(h, { name: 'Second' });
  const erasedTaskIds = [
    (await submit(first.id, ERASED)).json().id,
    (await submit(second.id, ERASED)).json().id,
  ];
  const keptTaskId = (await submit(first.id, KEPT)).json().id as string;
  const [due] = await h.store.dispatch.dueTasks(second.id, h.clock.now, 1);
  const attempt = {
    id: 'attempt-1',
    taskId: due!.id,
    campaignId: second.id,
    tenantId: 'acme',
    workerId: 'w1',
    switchId: 's1',
    gatewayId: 'g1',
    lineId: 'l1',
    callerId: null,
  };
  expect(
    await h.store.dispatch.claim([{ taskId: due!.id, expectedVersion: due!.version, attempt }], h.clock.now),
  ).toEqual([true]);
  await h.store.dispatch.finish(
    [
      {
        attemptId: 'attempt-1',
        taskId: due!.id,
        endedAtMs: h.clock.now,
        hangupCause: 'NO_ANSWER',
        sipCode: 480,
        outcome: 'no_answer',
        mayHaveReachedCallee: true,
        next: { status: 'completed', outcome: 'no_answer' },
        countsAsAttempt: true,
      },
    ],
    h.clock.now,
  );
  const db = new Database(h.dbPath, { readonly: true });
  const sealed = (
    db.prepare(`SELECT number_sealed FROM tasks WHERE id IN (?, ?)`).all(...erasedTaskIds) as {
      number_sealed: string;
    }[]
  ).map((r) => r.number_sealed);
  db.close();
  expect(sealed).toHaveLength(2);
  return { first, second, erasedTaskIds, keptTaskId, sealed, index: h.vault.index(ERASED) };
}

/** Everything from which the erased number could be recovered or recognised. */
function tracesOf(sealed: string[]): string[] {
  return [ERASED, ERASED.slice(1), ERASED.slice(3), maskPhoneNumber(ERASED), ...sealed];
}

describe('erasure by number', () => {
  it('erases every task and attempt holding it, from every table and from the file bytes', async () => {
    const { erasedTaskIds, keptTaskId, sealed, index } = await seed();
    const response = await h.call({
      method: 'POST',
      url: '/v1/erasures',
      payload: { by: 'number', number: '13800004242', region: 'CN' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      by: 'number',
      tenantId: 'acme',
      erased: { tasks: 2, attempts: 1, campaignsCancelled: 0 },
      suppressed: 0,
    });
    for (const id of erasedTaskIds)
      expect((await h.call({ method: 'GET', url: `/v1/tasks/${id}` })).statusCode).toBe(404);
    expect((await h.call({ method: 'GET', url: `/v1/tasks/${keptTaskId}` })).statusCode).toBe(200);

    // Without suppression not even the blind index survives, anywhere.
    const traces = [...tracesOf(sealed), index];
    const found = everyTextValue(h.dbPath).filter(({ value }) =>
      traces.some((trace) => value.includes(trace)),
    );
    expect(found).toEqual([]);
    const bytes = rawBytes(h.dbPath);
    for (const trace of traces) expect(bytes.includes(trace), trace).toBe(false);
    // what is kept is still readable
    expect(bytes.includes(h.vault.index(KEPT))).toBe(true);
  });

  it('leaves only a suppression by blind index when asked, and intake then refuses the number', async () => {
    const { first, sealed, index } = await seed();
    const response = await h.call({
      method: 'POST',
      url: '/v1/erasures',
      payload: { by: 'number', number: ERASED, suppress: true },
    });
    expect(response.json()).toMatchObject({ erased: { tasks: 2, attempts: 1 }, suppressed: 1 });

    const withIndex = everyTextValue(h.dbPath).filter(({ value }) => value.includes(index));
    expect(withIndex.map((f) => f.where)).toEqual(['suppressions.number_index']);
    const traces = tracesOf(sealed);
    expect(everyTextValue(h.dbPath).filter(({ value }) => traces.some((t) => value.includes(t)))).toEqual([]);
    for (const trace of traces) expect(rawBytes(h.dbPath).includes(trace), trace).toBe(false);

    const single = await submit(first.id, ERASED);
    expect(single.statusCode).toBe(400);
    expect(single.json().code).toBe('number_suppressed');
    expect(single.body).not.toContain('4242');
    const batch = await h.call({
      method: 'POST',
      url: `/v1/campaigns/${first.id}/tasks:batch`,
      payload: { tasks: [{ number: chineseMobile(5000) }, { number: '13800004242' }] },
    });
    expect(batch.statusCode).toBe(207);
    expect(batch.json().results[1]).toMatchObject({
      index: 1,
      status: 'invalid',
      error: { code: 'number_suppressed' },
    });
    expect(batch.json().counts).toMatchObject({ created: 1, invalid: 1 });
    // suppression is the tenant's own: another tenant may still call the number
    const other = await createCampaign(h, {}, OTHER_KEY);
    expect((await submit(other.id, ERASED, OTHER_KEY)).statusCode).toBe(201);
  });
});

describe('erasure by task and by tenant', () => {
  it('erases one task, with its attempts, and 404s an unknown or foreign task', async () => {
    const { erasedTaskIds, second } = await seed();
    const attempted = (await h.store.tasks.get('acme', erasedTaskIds[1]))!;
    expect(attempted.attempts).toHaveLength(1);
    const response = await h.call({
      method: 'POST',
      url: '/v1/erasures',
      payload: { by: 'task', taskId: attempted.id },
    });
    expect(response.json()).toMatchObject({ by: 'task', erased: { tasks: 1, attempts: 1 } });
    expect(
      (await h.call({ method: 'GET', url: `/v1/campaigns/${second.id}` })).json().stats.byStatus.completed,
    ).toBe(0);
    const again = await h.call({
      method: 'POST',
      url: '/v1/erasures',
      payload: { by: 'task', taskId: attempted.id },
    });
    expect(again.statusCode).toBe(404);
    const foreign = await h.call({
      method: 'POST',
      url: '/v1/erasures',
      key: OTHER_KEY,
      payload: { by: 'task', taskId: erasedTaskIds[0] },
    });
    expect(foreign.statusCode).toBe(404);
  });

  it("erases a whole tenant's numbers and cancels its campaigns, only when the tenant is named", async () => {
    const { first } = await seed();
    const other = await createCampaign(h, {}, OTHER_KEY);
    await submit(other.id, KEPT, OTHER_KEY);
    const unnamed = await h.call({ method: 'POST', url: '/v1/erasures', payload: { by: 'tenant' } });
    expect(unnamed.statusCode).toBe(400);
    const response = await h.call({
      method: 'POST',
      url: '/v1/erasures',
      payload: { by: 'tenant', tenantId: 'acme' },
    });
    expect(response.json()).toMatchObject({ erased: { tasks: 3, attempts: 1, campaignsCancelled: 2 } });
    expect((await h.call({ method: 'GET', url: `/v1/campaigns/${first.id}` })).json().status).toBe(
      'cancelled',
    );
    expect((await h.call({ method: 'GET', url: '/v1/tasks' })).json().items).toEqual([]);
    expect((await h.call({ method: 'GET', url: '/v1/tasks', key: OTHER_KEY })).json().items).toHaveLength(1);
  });
});
