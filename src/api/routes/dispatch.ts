import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Line } from '../../domain/resources.js';
import { isPlatformScoped } from '../../security/rbac.js';
import { auditTrail } from '../audit-trail.js';
import { principalOf, tenantOf } from '../auth.js';
import type { ApiApp, ApiOptions, DispatchView } from '../options.js';
import { notFound, ProblemError } from '../problem.js';
import { IdParams, Literals, Nullable, withProblems } from '../schemas/common.js';
import { LineSchema } from '../schemas/resources.js';
import { lineView } from '../views.js';

/**
 * "Why isn't it dialing?" (issue 4) and line health (R3.10): read straight from the scheduler's
 * decision core, so an operator sees exactly what holds a campaign back, with the numbers.
 */
const DispatchStatusSchema = Type.Object(
  {
    campaignId: Type.String(),
    status: Type.String({ description: 'active, paused or cancelled' }),
    dialing: Type.Boolean({ description: 'true when nothing holds the campaign back right now' }),
    hold: Nullable(
      Type.Object(
        { kind: Type.String() },
        {
          additionalProperties: true,
          description:
            'not_active | outside_window {nextOpeningAtMs} | no_due_tasks {queued, nextDueAtMs} | ' +
            'no_route {problems: line_ejected, switch_unreachable, switch_overloaded, …} | ' +
            'limits {denials: [{level, key, reason (caps | concurrency | daily_attempts), inFlight, maxConcurrent, capsPerSecond, retryAtMs}]}',
        },
      ),
    ),
    inFlight: Type.Object({ campaign: Type.Integer(), tenant: Type.Integer() }),
    queued: Type.Integer({ description: 'tasks the scheduler holds for this campaign (ready or due soon)' }),
    workerSpareCapacity: Type.Integer({
      description: 'calls the worker can still take; at 0 nothing is dispatched',
    }),
  },
  { title: 'DispatchStatus' },
);

const Counts = Type.Object({
  attempts: Type.Integer(),
  answered: Type.Integer(),
  failures: Type.Integer(),
  notDialed: Type.Integer(),
  inconclusive: Type.Integer(),
});

const LineHealthSchema = Type.Object(
  {
    lineId: Type.String(),
    state: Literals(['healthy', 'ejected', 'probing'] as const),
    usable: Type.Boolean(),
    capsShare: Type.Number({ description: 'share of the line CAPS in use: 1, or less while probing' }),
    reason: Type.String(),
    override: Nullable(Literals(['in', 'out'] as const)),
    window: Counts,
    answerRate: Nullable(Type.Number()),
    baseline: Nullable(Type.Number()),
  },
  { title: 'LineHealth' },
);

const OverrideBody = Type.Object(
  {
    override: Nullable(
      Literals(['in', 'out'] as const, { description: 'in / out forces the line; null = automatic' }),
    ),
  },
  { additionalProperties: false },
);

function schedulerOf(options: ApiOptions): DispatchView {
  if (!options.dispatch)
    throw new ProblemError(503, 'scheduler_unavailable', 'no scheduler runs in this process');
  return options.dispatch;
}

function canSee(line: Line, request: FastifyRequest): boolean {
  const principal = principalOf(request);
  return isPlatformScoped(principal.role) || line.tenantId === null || line.tenantId === principal.tenantId;
}

export function dispatchRoutes(app: ApiApp, options: ApiOptions): void {
  const { store, clock } = options;
  const audit = auditTrail(store, clock);

  app.get(
    '/v1/campaigns/:id/dispatch-status',
    {
      config: { permission: 'campaigns:read' },
      schema: {
        tags: ['campaigns'],
        summary: "Why isn't it dialing? What holds the campaign back right now, with the numbers behind it",
        params: IdParams,
        response: withProblems({ 200: DispatchStatusSchema }),
      },
    },
    async (request) => {
      const status = await schedulerOf(options).dispatchStatus(tenantOf(request), request.params.id);
      if (!status) throw notFound('campaign');
      return status;
    },
  );

  app.get(
    '/v1/lines/:id/health',
    {
      config: { permission: 'lines:read' },
      schema: {
        tags: ['lines'],
        summary: "A line's health: state, answer rate against its baseline, failures, override",
        params: IdParams,
        response: withProblems({ 200: LineHealthSchema }),
      },
    },
    async (request) => {
      const line = await store.resources.getLine(request.params.id);
      if (!line || !canSee(line, request)) throw notFound('line');
      const health = await schedulerOf(options).lineHealth(line.id);
      if (!health) throw notFound('line');
      return {
        lineId: line.id,
        state: health.state,
        usable: health.usable,
        capsShare: health.capsShare,
        reason: health.reason,
        override: health.override,
        window: health.stats.window,
        answerRate: health.stats.answerRate ?? null,
        baseline: health.stats.baseline ?? null,
      };
    },
  );

  app.put(
    '/v1/lines/:id/health',
    {
      config: { permission: 'resources:write' },
      schema: {
        tags: ['lines'],
        summary: 'Force a line in or out of service, or hand it back to automatic health (null)',
        params: IdParams,
        body: OverrideBody,
        response: withProblems({ 200: LineSchema }),
      },
    },
    async (request) => {
      const before = await store.resources.getLine(request.params.id);
      if (!before) throw notFound('line');
      const dispatch = schedulerOf(options);
      const line = await store.resources.setLineHealthOverride(before.id, request.body.override, clock());
      await dispatch.setLineOverride(line.id, line.healthOverride);
      await audit(request, {
        action: 'line.health_override',
        target: `line:${line.id}`,
        before: { override: before.healthOverride },
        after: { override: line.healthOverride },
        tenantId: line.tenantId,
      });
      return lineView(line);
    },
  );
}
