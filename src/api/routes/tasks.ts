import { uuidv7 } from '../../domain/ids.js';
import type { Campaign } from '../../domain/resources.js';
import {
  type BatchIntake,
  type IntakeContext,
  intakeBatch,
  refuseSuppressed,
} from '../../intake/task-intake.js';
import { auditTrail } from '../audit-trail.js';
import { tenantOf } from '../auth.js';
import { type ApiApp, type ApiOptions, DEFAULT_BODY_LIMIT_BYTES, DEFAULT_MAX_BATCH } from '../options.js';
import { etag } from '../preconditions.js';
import { notFound, ProblemError, validationFailed } from '../problem.js';
import { IdParams, Page, withProblems } from '../schemas/common.js';
import {
  type TaskBatchResult,
  TaskBatchResultSchema,
  TaskBatchSchema,
  TaskInputSchema,
  TaskListQuery,
  TaskSchema,
} from '../schemas/tasks.js';
import { taskView } from '../views.js';

const TAGS = ['tasks'];

export function taskRoutes(app: ApiApp, options: ApiOptions): void {
  const { store, vault, clock, notify } = options;
  const maxBatch = options.limits?.maxBatch ?? DEFAULT_MAX_BATCH;
  const audit = auditTrail(store, clock);

  /** Tasks may join an active or paused campaign (they wait in its queue), never a cancelled one. */
  async function campaignAcceptingTasks(tenantId: string, campaignId: string): Promise<Campaign> {
    const campaign = await store.campaigns.get(tenantId, campaignId);
    if (!campaign) throw notFound('campaign');
    if (campaign.status === 'cancelled') {
      throw new ProblemError(409, 'campaign_cancelled', 'the campaign is cancelled and takes no new tasks');
    }
    return campaign;
  }

  async function intakeContext(tenantId: string, campaign: Campaign, nowMs: number): Promise<IntakeContext> {
    const profile = await store.tenantProfiles.get(tenantId);
    return {
      vault,
      nowMs,
      tenantId,
      campaign,
      newTaskId: () => uuidv7(nowMs),
      ...(profile ? { destinations: profile.destinations } : {}),
    };
  }

  /** Per-item checks, then the tenant's suppressions (erased numbers), asked once per request. */
  async function intake(items: readonly unknown[], context: IntakeContext): Promise<BatchIntake> {
    const checked = intakeBatch(items, context);
    const suppressed = await store.erasure.suppressed(
      context.tenantId,
      checked.accepted.map((a) => a.task.numberIndex),
    );
    return refuseSuppressed(checked, suppressed);
  }

  app.post(
    '/v1/campaigns/:id/tasks',
    {
      config: { permission: 'tasks:write' },
      schema: {
        tags: TAGS,
        summary: 'Submit one task (a number already open in the campaign is a 409 duplicate_task)',
        params: IdParams,
        body: TaskInputSchema,
        response: withProblems({ 201: TaskSchema }),
      },
    },
    async (request, reply) => {
      const tenantId = tenantOf(request);
      const campaign = await campaignAcceptingTasks(tenantId, request.params.id);
      const now = clock();
      const { accepted, rejected } = await intake(
        [request.body],
        await intakeContext(tenantId, campaign, now),
      );
      const refused = rejected[0];
      if (refused) throw validationFailed(refused.error.errors, refused.error.code);
      const verdict = accepted[0]!;
      const { duplicates } = await store.tasks.insertMany([verdict.task], {
        skipDuplicates: true,
        nowMs: now,
      });
      if (duplicates.length > 0) {
        throw new ProblemError(409, 'duplicate_task', 'this number already has an open task in the campaign');
      }
      notify.tasksSubmitted(campaign.id);
      await audit(request, {
        action: 'tasks.import',
        target: `campaign:${campaign.id}`,
        after: { received: 1, created: 1, duplicate: 0, invalid: 0, taskId: verdict.task.id },
      });
      const task = await store.tasks.get(tenantId, verdict.task.id);
      if (!task) throw new Error(`task ${verdict.task.id} vanished after insert`);
      reply.header('location', `/v1/tasks/${task.id}`).header('etag', etag(task.version));
      return reply.code(201).send(taskView(task));
    },
  );

  const batchRoute = {
    config: { permission: 'tasks:write' as const },
    bodyLimit: options.limits?.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    schema: {
      tags: TAGS,
      summary: `Submit up to ${maxBatch} tasks; each item gets its own result (200 all created, 207 otherwise)`,
      params: IdParams,
      body: TaskBatchSchema,
      response: withProblems({ 200: TaskBatchResultSchema, 207: TaskBatchResultSchema }),
    },
  };
  // Google-style custom method (`tasks:batch`, the colon escaped for the router) and a plain path.
  for (const path of ['/v1/campaigns/:id/tasks::batch', '/v1/campaigns/:id/tasks/batch']) {
    app.post(path, batchRoute, async (request, reply) => {
      const tenantId = tenantOf(request);
      const { tasks, skipDuplicates = true } = request.body;
      // Checked before anything else, so an oversize batch stores nothing and costs little.
      if (tasks.length > maxBatch) {
        throw new ProblemError(413, 'payload_too_large', `a batch holds at most ${maxBatch} tasks`);
      }
      const campaign = await campaignAcceptingTasks(tenantId, request.params.id);
      const now = clock();
      const { accepted, rejected } = await intake(tasks, await intakeContext(tenantId, campaign, now));
      // All valid items in one store call: one transaction, all or nothing.
      const { duplicates } =
        accepted.length > 0
          ? await store.tasks.insertMany(
              accepted.map((a) => a.task),
              { skipDuplicates, nowMs: now },
            )
          : { duplicates: [] };
      const duplicateIndexes = new Set(duplicates);

      const results: TaskBatchResult['results'] = new Array(tasks.length);
      for (const { index, error } of rejected) results[index] = { index, status: 'invalid', error };
      accepted.forEach(({ index, task }, position) => {
        results[index] = duplicateIndexes.has(position)
          ? { index, status: 'duplicate' }
          : { index, status: 'created', id: task.id };
      });
      const created = accepted.length - duplicateIndexes.size;
      if (created > 0) notify.tasksSubmitted(campaign.id);
      const counts = {
        received: tasks.length,
        created,
        duplicate: duplicateIndexes.size,
        invalid: rejected.length,
      };
      // One entry per request, with counts: the numbers themselves never enter the audit log.
      await audit(request, { action: 'tasks.import', target: `campaign:${campaign.id}`, after: counts });
      return reply.code(created === tasks.length ? 200 : 207).send({ counts, results });
    });
  }

  app.get(
    '/v1/tasks/:id',
    {
      config: { permission: 'tasks:read' },
      schema: {
        tags: TAGS,
        summary: 'Get a task with its attempts',
        params: IdParams,
        response: withProblems({ 200: TaskSchema }),
      },
    },
    async (request, reply) => {
      const task = await store.tasks.get(tenantOf(request), request.params.id);
      if (!task) throw notFound('task');
      reply.header('etag', etag(task.version));
      return taskView(task, task.attempts);
    },
  );

  app.get(
    '/v1/tasks',
    {
      config: { permission: 'tasks:read' },
      schema: {
        tags: TAGS,
        summary: "List the tenant's tasks, oldest first, optionally filtered",
        querystring: TaskListQuery,
        response: withProblems({ 200: Page(TaskSchema) }),
      },
    },
    async (request) => {
      const { limit = 100, cursor, campaignId, status, outcome } = request.query;
      const page = await store.tasks.list(
        tenantOf(request),
        { campaignId, status, outcome },
        { limit, cursor },
      );
      return { items: page.items.map((t) => taskView(t)), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/v1/tasks/:id/cancel',
    {
      config: { permission: 'tasks:write' },
      schema: {
        tags: TAGS,
        summary: 'Cancel a queued task (409 task_not_cancellable otherwise)',
        params: IdParams,
        response: withProblems({ 200: TaskSchema }),
      },
    },
    // The queue may still hold the task: a stale entry is harmless, its claim fails (R3.7).
    async (request, reply) => {
      const task = await store.tasks.cancel(tenantOf(request), request.params.id, clock());
      await audit(request, {
        action: 'task.cancel',
        target: `task:${task.id}`,
        before: { status: 'queued' },
        after: { status: task.status, version: task.version },
      });
      reply.header('etag', etag(task.version));
      return taskView(task);
    },
  );
}
