import { formatInstant } from '../../intake/timestamps.js';
import { isPlatformScoped } from '../../security/rbac.js';
import type { AuditEntry } from '../../store/contract.js';
import { principalOf, targetTenant } from '../auth.js';
import type { ApiApp, ApiOptions } from '../options.js';
import { withProblems } from '../schemas/common.js';
import { AuditPageSchema, AuditQuery } from '../schemas/security.js';

function parsed(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}

export function auditView(entry: AuditEntry) {
  return {
    seq: entry.seq,
    id: entry.id,
    at: formatInstant(entry.at),
    actor: entry.actor,
    tenantId: entry.tenantId,
    sourceIp: entry.sourceIp,
    action: entry.action,
    target: entry.target,
    before: parsed(entry.before),
    after: parsed(entry.after),
    prevHash: entry.prevHash,
    hash: entry.hash,
  };
}

/**
 * The audit log, oldest first, paged by sequence number. A platform admin reads every tenant's
 * entries and the platform's own (or one tenant's with ?tenantId=); others read their tenant's.
 */
export function auditRoutes(app: ApiApp, options: ApiOptions): void {
  const { store } = options;

  app.get(
    '/v1/audit',
    {
      config: { permission: 'audit:read' },
      schema: {
        tags: ['audit'],
        summary: 'Audit log entries in chain order (masked before/after)',
        querystring: AuditQuery,
        response: withProblems({ 200: AuditPageSchema }),
      },
    },
    async (request) => {
      const { limit = 100, afterSeq, tenantId: requested } = request.query;
      const principal = principalOf(request);
      const everything = isPlatformScoped(principal.role) && requested === undefined;
      const tenantId = everything ? undefined : await targetTenant(request, store, requested);
      const entries = await store.audit.list({
        limit: limit + 1,
        ...(afterSeq !== undefined ? { afterSeq } : {}),
        ...(tenantId !== undefined ? { tenantId } : {}),
      });
      const items = entries.slice(0, limit);
      return {
        items: items.map(auditView),
        nextAfterSeq: entries.length > limit ? items.at(-1)!.seq : null,
      };
    },
  );
}
