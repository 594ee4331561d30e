import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACME_KEY,
  chineseMobile,
  createCampaign,
  type Harness,
  makeHarness,
  seedResources,
} from '../api/harness.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * Property-based fuzzing of every operation in the OpenAPI document: bodies, query strings and
 * path ids drawn both from the operation's own schema (so requests get past validation and
 * reach the handlers) and from arbitrary JSON. Whatever is sent: never a 5xx, always a problem
 * document for a 4xx, and a refused request writes nothing (every table's row count and the
 * audit head stay as they were) — except where the refusal is itself recorded: a failed login
 * appends its audit entry and nothing else.
 */
const AUDITED_REFUSALS: Record<string, string> = { 'POST /v1/session': 'session.login_failed' };
type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  format?: string;
};

/** An arbitrary for a JSON schema, close enough to be valid often and invalid sometimes. */
function fromSchema(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((s) => fromSchema(s, depth)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      if (depth > 3 || !schema.properties)
        return fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 });
      const required = new Set(schema.required ?? []);
      const entries = Object.entries(schema.properties).map(
        ([name, property]) => [name, fromSchema(property, depth + 1)] as const,
      );
      return fc.record(Object.fromEntries(entries), {
        requiredKeys: [...required].filter((key) => key in schema.properties!),
      });
    }
    case 'array':
      return fc.array(schema.items ? fromSchema(schema.items, depth + 1) : fc.jsonValue(), {
        maxLength: Math.min(schema.maxItems ?? 5, 5),
      });
    case 'integer':
      return fc.integer({
        min: Math.max(schema.minimum ?? -1000, -1e9),
        max: Math.min(schema.maximum ?? 1e6, 1e9),
      });
    case 'number':
      return fc.double({ noNaN: true, min: -1e6, max: 1e6 });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'string':
      if (schema.format === 'date-time')
        return fc
          .date({ min: new Date('2026-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
          .map((d) => d.toISOString());
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern), { maxLength: 40 });
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) });
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

interface Operation {
  method: string;
  path: string;
  body?: JsonSchema;
  query: Record<string, JsonSchema>;
}

const dir = makeTempDir();
let h: Harness;
let operations: Operation[];
const knownIds: string[] = [];

function fingerprint(except: ReadonlySet<string> = new Set()): string {
  const db = new Database(h.dbPath, { readonly: true });
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as {
      name: string;
    }[];
    return tables
      .filter(({ name }) => !except.has(name))
      .map(
        ({ name }) =>
          `${name}:${(db.prepare(`SELECT COUNT(*) AS n FROM "${name}"`).get() as { n: number }).n}`,
      )
      .join(',');
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  h = await makeHarness(dir.path, { rateLimit: false });
  const resources = await seedResources(h);
  const campaign = await createCampaign(h);
  const task = await h.call({
    method: 'POST',
    url: `/v1/campaigns/${campaign.id}/tasks`,
    payload: { number: chineseMobile(1) },
  });
  const user = await h.call({
    method: 'POST',
    url: '/v1/users',
    payload: { email: 'fuzz@acme.test', password: 'a long enough password', role: 'operator' },
  });
  knownIds.push(
    user.json().id,
    resources.switchId,
    resources.gatewayId,
    resources.lineId,
    campaign.id,
    task.json().id,
    'acme',
    'other',
  );
  const doc = (await h.call({ method: 'GET', url: '/openapi.json', key: null })).json();
  operations = Object.entries(doc.paths as Record<string, Record<string, Record<string, unknown>>>).flatMap(
    ([path, byMethod]) =>
      Object.entries(byMethod).map(([method, op]) => {
        const parameters = (op.parameters ?? []) as Array<{ in: string; name: string; schema: JsonSchema }>;
        const body = (op.requestBody as { content?: Record<string, { schema: JsonSchema }> } | undefined)
          ?.content?.['application/json']?.schema;
        return {
          method: method.toUpperCase(),
          path,
          ...(body ? { body } : {}),
          query: Object.fromEntries(
            parameters.filter((p) => p.in === 'query').map((p) => [p.name, p.schema]),
          ),
        };
      }),
  );
});
afterAll(async () => {
  await h.close();
  dir.remove();
});

describe('fuzzing every endpoint of the OpenAPI document', () => {
  it('never answers 5xx, always explains a 4xx, and a refused request writes nothing', async () => {
    expect(operations.length).toBeGreaterThanOrEqual(40);
    const pathId = fc.oneof(
      { arbitrary: fc.constantFrom(...knownIds), weight: 6 },
      { arbitrary: fc.string({ maxLength: 70 }), weight: 1 },
      { arbitrary: fc.uuid(), weight: 1 },
    );
    for (const operation of operations.filter((op) => op.path !== '/docs')) {
      const body = operation.body
        ? fc.oneof(
            { arbitrary: fromSchema(operation.body), weight: 3 },
            { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
          )
        : fc.constant(undefined);
      const query = fc.record(
        Object.fromEntries(
          Object.entries(operation.query).map(([name, schema]) => [
            name,
            fc.oneof(
              { arbitrary: fromSchema(schema), weight: 3 },
              { arbitrary: fc.string({ maxLength: 10 }), weight: 1 },
            ),
          ]),
        ),
        { requiredKeys: [] },
      );
      await fc.assert(
        fc.asyncProperty(pathId, body, query, async (id, payload, queryValues) => {
          const url = operation.path.replace('{id}', encodeURIComponent(id));
          const auditedRefusal = AUDITED_REFUSALS[`${operation.method} ${operation.path}`];
          const unchanged = new Set(auditedRefusal ? ['audit_log', 'audit_head'] : []);
          const before = fingerprint(unchanged);
          const headBefore = (await h.store.audit.head())?.seq;
          const response = await h.call({
            method: operation.method as 'GET',
            url,
            key: ACME_KEY,
            query: Object.fromEntries(Object.entries(queryValues).map(([k, v]) => [k, String(v)])),
            ...(payload === undefined
              ? {}
              : { payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } }),
          });
          const where = `${operation.method} ${url} → ${response.statusCode} ${response.body.slice(0, 300)}`;
          expect(response.statusCode, where).toBeLessThan(500);
          if (response.statusCode >= 400) {
            expect(response.headers['content-type'], where).toMatch(/^application\/problem\+json/);
            expect(response.json().code, where).toEqual(expect.any(String));
            expect(fingerprint(unchanged), where).toBe(before);
            const head = (await h.store.audit.head())?.seq;
            if (auditedRefusal === undefined) expect(head, where).toBe(headBefore);
            else if (head !== headBefore) {
              const entries = await h.store.audit.list({ afterSeq: headBefore ?? 0, limit: 10 });
              expect(
                entries.map((e) => e.action),
                where,
              ).toEqual([auditedRefusal]);
            }
          }
        }),
        { numRuns: 30, seed: 20_270_115 },
      );
    }
  });
});
