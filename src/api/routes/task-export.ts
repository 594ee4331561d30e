import { Readable } from 'node:stream';
import type { NumberVault } from '../../security/number-vault.js';
import type { Store } from '../../store/contract.js';
import { auditTrail } from '../audit-trail.js';
import { tenantOf } from '../auth.js';
import type { ApiApp, ApiOptions } from '../options.js';
import { notFound } from '../problem.js';
import { IdParams, ProblemSchema } from '../schemas/common.js';

const TAGS = ['tasks'];
const PAGE_SIZE = 500;
export const EXPORT_COLUMNS = ['task_id', 'number', 'status', 'outcome', 'attempts', 'external_ref'] as const;

/**
 * RFC 4180 quoting, plus the usual defence against formula injection for free text: a cell that
 * a spreadsheet would evaluate (= + - @, tab, CR) gets a leading apostrophe. Numbers are E.164
 * digits we produced ourselves and are written as they are.
 */
export function csvCell(value: string, freeText: boolean): string {
  const safe = freeText && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** At most `limit` rows, a page at a time: memory stays one page whatever the campaign's size. */
async function* csvLines(
  store: Store,
  vault: NumberVault,
  tenantId: string,
  campaignId: string,
  limit: number,
): AsyncGenerator<string> {
  yield `${EXPORT_COLUMNS.join(',')}\r\n`;
  let after = '';
  let written = 0;
  while (written < limit) {
    const page = await store.taskExport.page(
      tenantId,
      campaignId,
      after,
      Math.min(PAGE_SIZE, limit - written),
    );
    if (page.length === 0) return;
    let chunk = '';
    for (const task of page) {
      chunk += `${[
        csvCell(task.id, false),
        csvCell(vault.decrypt(task.numberSealed), false),
        csvCell(task.status, false),
        csvCell(task.outcome ?? '', false),
        String(task.attemptCount),
        csvCell(task.externalRef ?? '', true),
      ].join(',')}\r\n`;
    }
    written += page.length;
    after = page.at(-1)!.id;
    yield chunk;
  }
}

/**
 * The one way numbers leave in clear (R1.10, issue 6 §3): a CSV of a campaign's tasks, for roles
 * with `tasks:export` only. Audited before the first byte is sent, with the row count and never
 * a number; the stream then sends at most that many rows, so the entry and the file agree (a task
 * erased meanwhile only makes the file shorter).
 */
export function taskExportRoutes(app: ApiApp, options: ApiOptions): void {
  const { store, vault, clock } = options;
  const audit = auditTrail(store, clock);

  app.get(
    '/v1/campaigns/:id/tasks/export',
    {
      config: { permission: 'tasks:export' },
      schema: {
        tags: TAGS,
        summary: `CSV of the campaign's tasks with numbers in E.164 (${EXPORT_COLUMNS.join(', ')}); audited`,
        params: IdParams,
        response: {
          200: {
            description: 'text/csv; charset=utf-8, streamed',
            content: { 'text/csv': { schema: { type: 'string' } } },
          },
          '4xx': ProblemSchema,
          '5xx': ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const tenantId = tenantOf(request);
      const campaign = await store.campaigns.get(tenantId, request.params.id);
      if (!campaign) throw notFound('campaign');
      const rows = await store.taskExport.count(tenantId, campaign.id);
      await audit(request, {
        action: 'tasks.export',
        target: `campaign:${campaign.id}`,
        after: { format: 'csv', rows, columns: EXPORT_COLUMNS },
      });
      reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="campaign-${campaign.id}-tasks.csv"`)
        .header('cache-control', 'no-store');
      return reply.send(Readable.from(csvLines(store, vault, tenantId, campaign.id, rows)));
    },
  );
}
