import { uuidv7 } from '../../domain/ids.js';
import { isRegionCode } from '../../domain/phone-number.js';
import type { CampaignStatus } from '../../domain/resources.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../domain/retry-policy.js';
import { CallingScheduleError, validateCallingSchedule } from '../../scheduler/calling-window.js';
import type { CampaignInput } from '../../store/contract.js';
import { auditTrail } from '../audit-trail.js';
import { tenantOf } from '../auth.js';
import type { ApiApp, ApiOptions } from '../options.js';
import { etag, expectedVersion } from '../preconditions.js';
import { type FieldError, notFound, validationFailed } from '../problem.js';
import {
  type CampaignCreate,
  CampaignCreateSchema,
  CampaignListQuery,
  type CampaignPatch,
  CampaignPatchSchema,
  CampaignSchema,
} from '../schemas/campaigns.js';
import { IdParams, Page, withProblems } from '../schemas/common.js';
import { campaignView } from '../views.js';

const TAGS = ['campaigns'];

/** Omitted delays keep their defaults: a missing delay would otherwise mean "redial at once". */
function retryPolicyFrom(input: CampaignCreate['retryPolicy']): RetryPolicy {
  if (!input) return DEFAULT_RETRY_POLICY;
  return {
    maxAttempts: input.maxAttempts,
    retryDelaySec: { ...DEFAULT_RETRY_POLICY.retryDelaySec, ...input.retryDelaySec },
  };
}

/** Checks what the schema cannot: the region is known, and every line exists and is lent to this tenant. */
async function checkReferences(
  options: ApiOptions,
  tenantId: string,
  body: Pick<CampaignPatch, 'defaultRegion' | 'lineIds' | 'schedule'>,
): Promise<void> {
  const errors: FieldError[] = [];
  if (body.schedule) {
    try {
      validateCallingSchedule(body.schedule);
    } catch (error) {
      if (!(error instanceof CallingScheduleError)) throw error;
      errors.push({
        path: `/schedule/${error.field.replace(/\[(\d+)\]/g, '/$1').replace(/\./g, '/')}`,
        message: error.message,
      });
    }
  }
  if (body.defaultRegion && !isRegionCode(body.defaultRegion)) {
    errors.push({ path: '/defaultRegion', message: 'not a known ISO 3166-1 alpha-2 region' });
  }
  for (const [index, lineId] of (body.lineIds ?? []).entries()) {
    const line = await options.store.resources.getLine(lineId);
    // Another tenant's exclusive line reads exactly like a missing one.
    if (!line || (line.tenantId !== null && line.tenantId !== tenantId)) {
      errors.push({ path: `/lineIds/${index}`, message: 'no such line' });
    }
  }
  if (errors.length > 0) throw validationFailed(errors);
}

const statusActions: ReadonlyArray<{ action: string; status: CampaignStatus; summary: string }> = [
  { action: 'pause', status: 'paused', summary: 'Pause dispatching; tasks may still be submitted' },
  { action: 'resume', status: 'active', summary: 'Resume dispatching' },
  { action: 'cancel', status: 'cancelled', summary: 'Cancel the campaign and its queued tasks' },
];

export function campaignRoutes(app: ApiApp, options: ApiOptions): void {
  const { store, clock, notify } = options;
  const audit = auditTrail(store, clock);

  app.post(
    '/v1/campaigns',
    {
      config: { permission: 'campaigns:write' },
      schema: {
        tags: TAGS,
        summary: 'Create a campaign',
        body: CampaignCreateSchema,
        response: withProblems({ 201: CampaignSchema }),
      },
    },
    async (request, reply) => {
      const tenantId = tenantOf(request);
      const body = request.body;
      await checkReferences(options, tenantId, body);
      const now = clock();
      const input: CampaignInput = {
        id: uuidv7(now),
        tenantId,
        name: body.name,
        weight: body.weight ?? 1,
        lineIds: body.lineIds ?? [],
        defaultRegion: body.defaultRegion ?? null,
        callerId: body.callerId ?? null,
        retryPolicy: retryPolicyFrom(body.retryPolicy),
        ringTimeoutSec: body.ringTimeoutSec ?? 30,
        maxCallDurationSec: body.maxCallDurationSec ?? 3600,
        caps: body.caps ?? null,
        maxConcurrent: body.maxConcurrent ?? null,
        schedule: body.schedule ?? null,
        selectionStrategy: body.selectionStrategy ?? 'answer_rate_first',
      };
      const campaign = await store.campaigns.create(input, now);
      notify.campaignChanged(campaign.id);
      await audit(request, {
        action: 'campaign.create',
        target: `campaign:${campaign.id}`,
        after: campaignView(campaign),
      });
      reply.header('location', `/v1/campaigns/${campaign.id}`).header('etag', etag(campaign.version));
      return reply.code(201).send(campaignView(campaign));
    },
  );

  app.get(
    '/v1/campaigns',
    {
      config: { permission: 'campaigns:read' },
      schema: {
        tags: TAGS,
        summary: "List the tenant's campaigns, oldest first",
        querystring: CampaignListQuery,
        response: withProblems({ 200: Page(CampaignSchema) }),
      },
    },
    async (request) => {
      const { limit = 100, cursor } = request.query;
      const page = await store.campaigns.list(tenantOf(request), { limit, cursor });
      return { items: page.items.map((c) => campaignView(c)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/campaigns/:id',
    {
      config: { permission: 'campaigns:read' },
      schema: {
        tags: TAGS,
        summary: 'Get a campaign with its task counts',
        params: IdParams,
        response: withProblems({ 200: CampaignSchema }),
      },
    },
    async (request, reply) => {
      const tenantId = tenantOf(request);
      const campaign = await store.campaigns.get(tenantId, request.params.id);
      if (!campaign) throw notFound('campaign');
      const stats = await store.campaigns.stats(tenantId, campaign.id);
      reply.header('etag', etag(campaign.version));
      return campaignView(campaign, stats);
    },
  );

  app.patch(
    '/v1/campaigns/:id',
    {
      config: { permission: 'campaigns:write' },
      schema: {
        tags: TAGS,
        summary: 'Change some fields of a campaign (optimistic lock with If-Match or version)',
        params: IdParams,
        body: CampaignPatchSchema,
        response: withProblems({ 200: CampaignSchema }),
      },
    },
    async (request, reply) => {
      const tenantId = tenantOf(request);
      const { version, retryPolicy, ...fields } = request.body;
      const expected = expectedVersion(request, version);
      await checkReferences(options, tenantId, fields);
      const patch = { ...fields, ...(retryPolicy ? { retryPolicy: retryPolicyFrom(retryPolicy) } : {}) };
      const before = await store.campaigns.get(tenantId, request.params.id);
      const campaign = await store.campaigns.update(tenantId, request.params.id, patch, expected, clock());
      notify.campaignChanged(campaign.id);
      await audit(request, {
        action: 'campaign.update',
        target: `campaign:${campaign.id}`,
        before: before && campaignView(before),
        after: campaignView(campaign),
      });
      reply.header('etag', etag(campaign.version));
      return campaignView(campaign);
    },
  );

  for (const { action, status, summary } of statusActions) {
    app.post(
      `/v1/campaigns/:id/${action}`,
      {
        config: { permission: 'campaigns:write' },
        schema: { tags: TAGS, summary, params: IdParams, response: withProblems({ 200: CampaignSchema }) },
      },
      async (request, reply) => {
        const tenantId = tenantOf(request);
        const before = await store.campaigns.get(tenantId, request.params.id);
        const campaign = await store.campaigns.setStatus(tenantId, request.params.id, status, clock());
        notify.campaignChanged(campaign.id);
        await audit(request, {
          action: `campaign.${action}`,
          target: `campaign:${campaign.id}`,
          before: before && { status: before.status, version: before.version },
          after: { status: campaign.status, version: campaign.version },
        });
        reply.header('etag', etag(campaign.version));
        return campaignView(campaign);
      },
    );
  }
}
