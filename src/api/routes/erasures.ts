import { InvalidPhoneNumberError, parsePhoneNumber } from '../../domain/phone-number.js';
import type { ErasureScope } from '../../store/contract.js';
import { auditTrail } from '../audit-trail.js';
import { targetTenant } from '../auth.js';
import type { ApiApp, ApiOptions } from '../options.js';
import { validationFailed } from '../problem.js';
import { withProblems } from '../schemas/common.js';
import { ErasureReportSchema, ErasureSchema } from '../schemas/security.js';

/**
 * Erasure on request (R1.10, GDPR-style): by number (found through its blind index, never
 * decrypted), by task, or a whole tenant's numbers. Everything holding the numbers goes in one
 * transaction; the report says what went, and the audit entry says who asked — without the
 * number or its index, which must not outlive the erasure there either.
 */
export function erasureRoutes(app: ApiApp, options: ApiOptions): void {
  const { store, vault, clock } = options;
  const audit = auditTrail(store, clock);

  app.post(
    '/v1/erasures',
    {
      config: { permission: 'erasures:write' },
      schema: {
        tags: ['erasures'],
        summary: 'Erase a number, a task or a tenant’s numbers; optionally suppress them from intake',
        body: ErasureSchema,
        response: withProblems({ 200: ErasureReportSchema }),
      },
    },
    async (request) => {
      const body = request.body;
      const tenantId = await targetTenant(request, store, body.tenantId);
      const suppress = body.suppress ?? false;
      let scope: ErasureScope;
      if (body.by === 'number') {
        if (body.number === undefined)
          throw validationFailed([{ path: '/number', message: 'required with by=number' }]);
        let e164: string;
        try {
          e164 = parsePhoneNumber(body.number, body.region).e164;
        } catch (error) {
          if (error instanceof InvalidPhoneNumberError) {
            throw validationFailed([{ path: '/number', message: error.message }], 'invalid_number');
          }
          throw error;
        }
        scope = { kind: 'number', tenantId, numberIndex: vault.index(e164) };
      } else if (body.by === 'task') {
        if (body.taskId === undefined)
          throw validationFailed([{ path: '/taskId', message: 'required with by=task' }]);
        scope = { kind: 'task', tenantId, taskId: body.taskId };
      } else {
        if (body.tenantId === undefined) {
          // Erasing a whole tenant is never implied: it must be named.
          throw validationFailed([{ path: '/tenantId', message: 'required with by=tenant' }]);
        }
        if (suppress) throw validationFailed([{ path: '/suppress', message: 'not with by=tenant' }]);
        scope = { kind: 'tenant', tenantId };
      }
      const report = await store.erasure.erase(scope, { suppress, nowMs: clock() });
      const erased = {
        tasks: report.tasks,
        attempts: report.attempts,
        callRecords: report.callRecords,
        campaignsCancelled: report.campaignsCancelled,
      };
      const entry = await audit(request, {
        action: `erasure.${body.by}`,
        target:
          scope.kind === 'task'
            ? `task:${scope.taskId}`
            : scope.kind === 'tenant'
              ? `tenant:${tenantId}`
              : 'number',
        tenantId,
        after: { ...erased, suppressed: report.suppressed },
      });
      return { by: body.by, tenantId, erased, suppressed: report.suppressed, auditSeq: entry.seq };
    },
  );
}
