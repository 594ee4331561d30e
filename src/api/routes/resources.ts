import { isIP } from 'node:net';
import { type TObject, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { uuidv7 } from '../../domain/ids.js';
import type { Gateway, Line } from '../../domain/resources.js';
import { DEFAULT_DIAL_TEMPLATE, dialTemplateProblem } from '../../intake/dial-template.js';
import { isPlatformScoped } from '../../security/rbac.js';
import type { GatewayInput, LineInput, SwitchInput, SwitchRecord } from '../../store/contract.js';
import { auditTrail } from '../audit-trail.js';
import { type Permission, principalOf } from '../auth.js';
import type { ApiApp, ApiOptions } from '../options.js';
import { etag, expectedVersion } from '../preconditions.js';
import { type FieldError, notFound, ProblemError, validationFailed } from '../problem.js';
import { IdParams, List, withProblems } from '../schemas/common.js';
import {
  type GatewayInputBody,
  GatewayInputSchema,
  GatewaySchema,
  type LineInputBody,
  LineInputSchema,
  LineSchema,
  type SwitchInputBody,
  SwitchInputSchema,
  SwitchSchema,
} from '../schemas/resources.js';
import { gatewayView, lineView, switchView } from '../views.js';

/**
 * Switches, gateways and lines: the telecom resources the platform owns and lends to tenants
 * (R3.1). Only a platform admin writes them or reads switches and gateways; tenant roles read
 * the lines lent to them (their own and the shared ones), so they can name them in campaigns.
 */
const WRITE: { permission: Permission } = { permission: 'resources:write' };

/** FreeSWITCH's well-known default ESL password: an open door on anything but loopback. */
const DEFAULT_ESL_PASSWORD = 'ClueCon';

function isLoopback(host: string): boolean {
  const name = host.toLowerCase();
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function isHostOrIp(text: string): boolean {
  return isIP(text) !== 0 || HOSTNAME.test(text);
}

function throwIfAny(errors: FieldError[]): void {
  if (errors.length > 0) throw validationFailed(errors);
}

interface ResourceKind<Body, Row, Record> {
  path: string;
  readPermission: Permission;
  /** Whether a caller may see this record; another tenant's record reads as missing. */
  visibleTo?: (record: Record, request: FastifyRequest) => boolean;
  /** The tenant an audit entry files the change under (null: platform-wide). */
  tenantOf?: (record: Record) => string | null;
  tag: string;
  noun: string;
  input: TObject;
  output: TSchema;
  view: (record: Record) => { version: number };
  /** Checks the body against the store and builds the row; `current` is set on update. */
  prepare: (body: Body, id: string, current: Record | undefined) => Promise<Row>;
  create: (row: Row, now: number) => Promise<Record>;
  update: (id: string, row: Row, expected: number | undefined, now: number) => Promise<Record>;
  get: (id: string) => Promise<Record | undefined>;
  list: () => Promise<Record[]>;
  remove: (id: string) => Promise<void>;
}

/** create, list, get, replace (PUT, optimistic lock) and delete, the same way for every kind. */
function registerKind<Body extends { version?: number }, Row, Record extends { id: string }>(
  app: ApiApp,
  options: ApiOptions,
  kind: ResourceKind<Body, Row, Record>,
): void {
  const { clock, notify } = options;
  const tags = [kind.tag];
  const item = `${kind.path}/:id`;
  const READ = { permission: kind.readPermission };
  const audit = auditTrail(options.store, clock);
  const visible = (record: Record, request: FastifyRequest) => kind.visibleTo?.(record, request) ?? true;
  const tenantOfRecord = (record: Record) => kind.tenantOf?.(record) ?? null;

  app.post(
    kind.path,
    {
      config: WRITE,
      schema: {
        tags,
        summary: `Create a ${kind.noun}`,
        body: kind.input,
        response: withProblems({ 201: kind.output }),
      },
    },
    async (request, reply) => {
      const now = clock();
      const id = uuidv7(now);
      const row = await kind.prepare(request.body as Body, id, undefined);
      const record = await kind.create(row, now);
      notify.resourcesChanged();
      const view = kind.view(record);
      await audit(request, {
        action: `${kind.noun}.create`,
        target: `${kind.noun}:${id}`,
        tenantId: tenantOfRecord(record),
        after: view,
      });
      reply.header('location', `${kind.path}/${id}`).header('etag', etag(view.version));
      return reply.code(201).send(view);
    },
  );

  app.get(
    kind.path,
    {
      config: READ,
      schema: { tags, summary: `List ${kind.noun}es`, response: withProblems({ 200: List(kind.output) }) },
    },
    async (request) => ({
      items: (await kind.list()).filter((record) => visible(record, request)).map(kind.view),
    }),
  );

  app.get(
    item,
    {
      config: READ,
      schema: {
        tags,
        summary: `Get a ${kind.noun}`,
        params: IdParams,
        response: withProblems({ 200: kind.output }),
      },
    },
    async (request, reply) => {
      const record = await kind.get(request.params.id);
      if (record === undefined || !visible(record, request)) throw notFound(kind.noun);
      const view = kind.view(record);
      reply.header('etag', etag(view.version));
      return view;
    },
  );

  app.put(
    item,
    {
      config: WRITE,
      schema: {
        tags,
        summary: `Replace a ${kind.noun} (optimistic lock with If-Match or version)`,
        params: IdParams,
        body: kind.input,
        response: withProblems({ 200: kind.output }),
      },
    },
    async (request, reply) => {
      const body = request.body as Body;
      const expected = expectedVersion(request, body.version);
      const current = await kind.get(request.params.id);
      if (current === undefined) throw notFound(kind.noun);
      const row = await kind.prepare(body, request.params.id, current);
      const record = await kind.update(request.params.id, row, expected, clock());
      notify.resourcesChanged();
      const view = kind.view(record);
      await audit(request, {
        action: `${kind.noun}.update`,
        target: `${kind.noun}:${record.id}`,
        tenantId: tenantOfRecord(record),
        before: kind.view(current),
        after: view,
      });
      reply.header('etag', etag(view.version));
      return view;
    },
  );

  app.delete(
    item,
    {
      config: WRITE,
      schema: {
        tags,
        summary: `Delete a ${kind.noun} (409 resource_in_use while referenced)`,
        params: IdParams,
        response: withProblems({ 204: Type.Null({ description: 'Deleted' }) }),
      },
    },
    async (request, reply) => {
      const current = await kind.get(request.params.id);
      if (current === undefined) throw notFound(kind.noun);
      await kind.remove(request.params.id);
      notify.resourcesChanged();
      await audit(request, {
        action: `${kind.noun}.delete`,
        target: `${kind.noun}:${request.params.id}`,
        tenantId: tenantOfRecord(current),
        before: kind.view(current),
      });
      return reply.code(204).send(null);
    },
  );
}

export function resourceRoutes(app: ApiApp, options: ApiOptions): void {
  const { store, vault } = options;
  const resources = store.resources;

  registerKind<SwitchInputBody, SwitchInput, SwitchRecord>(app, options, {
    path: '/v1/switches',
    readPermission: 'resources:read',
    tag: 'switches',
    noun: 'switch',
    input: SwitchInputSchema,
    output: SwitchSchema,
    view: switchView,
    async prepare(body, id, current): Promise<SwitchInput> {
      const errors: FieldError[] = [];
      if (!isHostOrIp(body.eslHost))
        errors.push({ path: '/eslHost', message: 'not a hostname or IP address' });
      if (body.eslPassword === undefined && !current) {
        errors.push({ path: '/eslPassword', message: 'required when creating a switch' });
      }
      throwIfAny(errors);
      const password = body.eslPassword ?? vault.decrypt(current!.eslPasswordSealed);
      if (
        password === DEFAULT_ESL_PASSWORD &&
        !isLoopback(body.eslHost) &&
        body.allowDefaultPassword !== true
      ) {
        throw new ProblemError(
          400,
          'default_esl_password',
          `the ESL password is FreeSWITCH's default on a non-loopback host: set a strong one (or allowDefaultPassword: true)`,
        );
      }
      return {
        id,
        name: body.name,
        eslHost: body.eslHost,
        eslPort: body.eslPort ?? 8021,
        // Sealed like a phone number: the database never holds switch credentials in clear.
        eslPasswordSealed:
          body.eslPassword !== undefined ? vault.encrypt(body.eslPassword) : current!.eslPasswordSealed,
        maxSessions: body.maxSessions,
        maxCaps: body.maxCaps,
        enabled: body.enabled ?? true,
      };
    },
    create: (row, now) => resources.createSwitch(row, now),
    update: (id, row, expected, now) => resources.updateSwitch(id, row, expected, now),
    get: (id) => resources.getSwitch(id),
    list: () => resources.listSwitches(),
    remove: (id) => resources.deleteSwitch(id),
  });

  registerKind<GatewayInputBody, GatewayInput, Gateway>(app, options, {
    path: '/v1/gateways',
    readPermission: 'resources:read',
    tag: 'gateways',
    noun: 'gateway',
    input: GatewayInputSchema,
    output: GatewaySchema,
    view: gatewayView,
    async prepare(body, id): Promise<GatewayInput> {
      const errors: FieldError[] = [];
      for (const [index, switchId] of body.switchIds.entries()) {
        if (!(await resources.getSwitch(switchId)))
          errors.push({ path: `/switchIds/${index}`, message: 'no such switch' });
      }
      throwIfAny(errors);
      return {
        id,
        name: body.name,
        switchIds: body.switchIds,
        maxCaps: body.maxCaps ?? null,
        maxConcurrent: body.maxConcurrent ?? null,
        enabled: body.enabled ?? true,
      };
    },
    create: (row, now) => resources.createGateway(row, now),
    update: (id, row, expected, now) => resources.updateGateway(id, row, expected, now),
    get: (id) => resources.getGateway(id),
    list: () => resources.listGateways(),
    remove: (id) => resources.deleteGateway(id),
  });

  registerKind<LineInputBody, LineInput, Line>(app, options, {
    path: '/v1/lines',
    readPermission: 'lines:read',
    visibleTo(line, request) {
      const principal = principalOf(request);
      return (
        isPlatformScoped(principal.role) || line.tenantId === null || line.tenantId === principal.tenantId
      );
    },
    tenantOf: (line) => line.tenantId,
    tag: 'lines',
    noun: 'line',
    input: LineInputSchema,
    output: LineSchema,
    view: lineView,
    async prepare(body, id): Promise<LineInput> {
      const errors: FieldError[] = [];
      const dialTemplate = body.dialTemplate ?? DEFAULT_DIAL_TEMPLATE;
      const templateProblem = dialTemplateProblem(dialTemplate);
      if (templateProblem) errors.push({ path: '/dialTemplate', message: templateProblem });
      if (!(await resources.getGateway(body.gatewayId)))
        errors.push({ path: '/gatewayId', message: 'no such gateway' });
      const tenantId = body.tenantId ?? null;
      if (tenantId !== null && !(await store.tenants.get(tenantId))) {
        errors.push({ path: '/tenantId', message: 'no such tenant' });
      }
      throwIfAny(errors);
      return {
        id,
        name: body.name,
        gatewayId: body.gatewayId,
        dialTemplate,
        numberFormat: body.numberFormat ?? 'e164',
        callerIds: body.callerIds ?? [],
        caps: body.caps,
        maxConcurrent: body.maxConcurrent,
        weight: body.weight ?? 1,
        callerIdCaps: body.callerIdCaps ?? null,
        callerIdMaxConcurrent: body.callerIdMaxConcurrent ?? null,
        tenantId,
        enabled: body.enabled ?? true,
      };
    },
    create: (row, now) => resources.createLine(row, now),
    update: (id, row, expected, now) => resources.updateLine(id, row, expected, now),
    get: (id) => resources.getLine(id),
    list: () => resources.listLines(),
    remove: (id) => resources.deleteLine(id),
  });
}
