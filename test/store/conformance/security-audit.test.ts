import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../../src/domain/ids.js';
import { auditEntryHash, verifyAuditChain } from '../../../src/security/audit-chain.js';
import { AUDIT_GENESIS, type AuditDraft, type Store } from '../../../src/store/contract.js';
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from '../../support/postgres.js';
import { storeKinds } from '../../support/stores.js';

/**
 * The audit log on every store: append after the head, list by sequence and tenant, prune with
 * a checkpoint the chain continues from. On PostgreSQL also: appends from two processes (two
 * pools on one schema) racing, and the triggers that keep rows append-only. Tampering and
 * `audit verify` are in test/security/audit-chain.test.ts, for both stores.
 */
const DAY_MS = 86_400_000;
const NOW = 1_800_000_000_000;
const kinds = await storeKinds();

function draft(at: number, tenantId: string | null, action: string): AuditDraft {
  return {
    id: uuidv7(at),
    at,
    actor: 'key:test',
    tenantId,
    sourceIp: '127.0.0.1',
    action,
    target: null,
    before: null,
    after: JSON.stringify({ action }),
  };
}

describe.each(kinds.map((kind) => [kind.name, kind] as const))('%s: audit log', (_name, kind) => {
  let store: Store;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ store, dispose } = await kind.open());
  });
  afterAll(() => dispose());

  it('starts empty, then chains each entry to the previous one', async () => {
    expect(await store.audit.head()).toBeUndefined();
    expect(await store.audit.checkpoint()).toBeUndefined();
    expect(await store.audit.list({ limit: 10 })).toEqual([]);
    const sealed: unknown[] = [];
    const first = await store.audit.append(draft(NOW - 500 * DAY_MS, 'acme', 'one'), (entry) => {
      sealed.push(entry);
      return auditEntryHash(entry);
    });
    expect(sealed).toEqual([
      { ...draft(NOW - 500 * DAY_MS, 'acme', 'one'), id: first.id, seq: 1, prevHash: AUDIT_GENESIS },
    ]);
    const second = await store.audit.append(draft(NOW - 400 * DAY_MS, 'other', 'two'), auditEntryHash);
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash, tenantId: 'other', sourceIp: '127.0.0.1' });
    expect(await store.audit.head()).toEqual({ seq: 2, hash: second.hash });
    expect(await store.audit.list({ limit: 10 })).toEqual([first, second]);
  });

  it('lists in sequence order after a sequence number, optionally one tenant’s', async () => {
    await store.audit.append(draft(NOW - 300 * DAY_MS, 'acme', 'three'), auditEntryHash);
    await store.audit.append(draft(NOW - 10 * DAY_MS, null, 'four'), auditEntryHash);
    await store.audit.append(draft(NOW - 5 * DAY_MS, 'acme', 'five'), auditEntryHash);
    const actions = async (filter: { tenantId?: string; afterSeq?: number; limit: number }) =>
      (await store.audit.list(filter)).map((e) => `${e.seq}:${e.action}`);
    expect(await actions({ limit: 2 })).toEqual(['1:one', '2:two']);
    expect(await actions({ afterSeq: 2, limit: 10 })).toEqual(['3:three', '4:four', '5:five']);
    expect(await actions({ tenantId: 'acme', limit: 10 })).toEqual(['1:one', '3:three', '5:five']);
    expect(await actions({ tenantId: 'acme', afterSeq: 1, limit: 1 })).toEqual(['3:three']);
    expect(await actions({ tenantId: 'nobody', limit: 10 })).toEqual([]);
  });

  it('serializes appends made at once: no gap, no fork', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.audit.append(draft(NOW - DAY_MS + i, 'acme', `burst${i}`), auditEntryHash),
      ),
    );
    expect(await verifyAuditChain(store.audit)).toMatchObject({ ok: true, entries: 25, problems: [] });
    expect((await store.audit.head())?.seq).toBe(25);
  });

  it('prunes the prefix older than the cut-off after recording a checkpoint; the chain continues', async () => {
    expect(await store.audit.prune(NOW - 600 * DAY_MS, NOW)).toBeUndefined();
    const removedLast = (await store.audit.list({ limit: 3 }))[2]!;
    const checkpoint = await store.audit.prune(NOW - 200 * DAY_MS, NOW);
    expect(checkpoint).toEqual({ throughSeq: 3, throughHash: removedLast.hash, pruned: 3, at: NOW });
    expect(await store.audit.checkpoint()).toEqual(checkpoint);
    expect((await store.audit.list({ limit: 100 }))[0]!.seq).toBe(4);
    const next = await store.audit.append(draft(NOW, 'acme', 'after-prune'), auditEntryHash);
    expect(next.seq).toBe(26);
    expect(await verifyAuditChain(store.audit)).toMatchObject({ ok: true, entries: 23, startedAfterSeq: 3 });
  });

  it('continues from the head when everything was pruned', async () => {
    const head = (await store.audit.head())!;
    const checkpoint = await store.audit.prune(NOW + 1, NOW + 1);
    expect(checkpoint).toMatchObject({ throughSeq: head.seq, throughHash: head.hash, pruned: 23 });
    expect(await store.audit.list({ limit: 10 })).toEqual([]);
    expect(await verifyAuditChain(store.audit)).toMatchObject({ ok: true, entries: 0 });
    const next = await store.audit.append(draft(NOW + 2, 'acme', 'fresh'), auditEntryHash);
    expect(next).toMatchObject({ seq: head.seq + 1, prevHash: head.hash });
    expect(await verifyAuditChain(store.audit)).toMatchObject({ ok: true, entries: 1 });
  });
});

const postgres = kinds.find((kind) => kind.name === 'postgres');

describe.skipIf(!postgres)('postgres: the audit chain across processes', () => {
  const schema = freshSchemaName('audit');
  const stores: Store[] = [];
  let raw: pg.Client;

  beforeAll(async () => {
    const { openPostgresStore } = await import('../../../src/store/postgres/index.js');
    // Two pools on one schema stand for two platform processes.
    for (let i = 0; i < 2; i++)
      stores.push(await openPostgresStore({ url: TEST_DATABASE_URL, schema, max: 4 }));
    raw = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
    await raw.connect();
  });
  afterAll(async () => {
    await raw?.end();
    for (const store of stores) await store.close();
    await dropSchema(schema);
  });

  it('keeps one valid chain when two stores append at the same time', async () => {
    const perStore = 60;
    await Promise.all(
      stores.map((store, s) =>
        Promise.all(
          Array.from({ length: perStore }, (_, i) =>
            store.audit.append(draft(NOW + i, 'acme', `p${s}.${i}`), auditEntryHash),
          ),
        ),
      ),
    );
    const entries = await stores[0]!.audit.list({ limit: 1000 });
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 2 * perStore }, (_, i) => i + 1));
    expect(new Set(entries.map((e) => e.prevHash)).size).toBe(2 * perStore);
    for (const store of stores) {
      expect(await verifyAuditChain(store.audit)).toMatchObject({
        ok: true,
        entries: 2 * perStore,
        problems: [],
      });
    }
    expect(await stores[1]!.audit.head()).toEqual({ seq: 2 * perStore, hash: entries.at(-1)!.hash });
  });

  it('refuses UPDATE, unpruned DELETE and TRUNCATE of audit rows in the database itself', async () => {
    await expect(raw.query(`UPDATE audit_log SET actor = 'me' WHERE seq = 1`)).rejects.toThrow(/append-only/);
    await expect(raw.query('DELETE FROM audit_log WHERE seq = 1')).rejects.toThrow(/checkpointed prune/);
    await expect(raw.query('TRUNCATE audit_log')).rejects.toThrow(/checkpointed prune/);
    // a prune still removes what its checkpoint covers, and only that
    await stores[1]!.audit.append(draft(NOW + DAY_MS, 'acme', 'later'), auditEntryHash);
    const checkpoint = await stores[0]!.audit.prune(NOW + 1000, NOW + DAY_MS);
    expect(checkpoint).toMatchObject({ throughSeq: 120, pruned: 120 });
    const { rows } = await raw.query<{ first: string }>('SELECT MIN(seq)::text AS first FROM audit_log');
    expect(rows[0]!.first).toBe('121');
    expect(await verifyAuditChain(stores[1]!.audit)).toMatchObject({
      ok: true,
      entries: 1,
      startedAfterSeq: 120,
    });
    await expect(raw.query('DELETE FROM audit_log WHERE seq = 121')).rejects.toThrow(/checkpointed prune/);
  });
});
