import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, type SwitchInput } from '../../../src/store/contract.js';
import { storeKinds } from '../../support/stores.js';
import { campaignInput, freshStorePerTest, NOW, task } from './core-fixtures.js';

/** Tenants, switches, gateways, lines and campaigns: the same behaviour on every store. */
const kinds = await storeKinds();

function switchInput(id: string, name = id): SwitchInput {
  return {
    id,
    name,
    eslHost: '10.0.0.1',
    eslPort: 8021,
    eslPasswordSealed: `sealed-${id}`,
    maxSessions: 500,
    maxCaps: 50,
    enabled: true,
  };
}

describe.each(kinds.map((kind) => [kind.name, kind] as const))('%s: core resources', (_name, kind) => {
  const world = freshStorePerTest(kind);

  it('ensures a tenant once: a second ensure keeps the first name and time', async () => {
    const { store } = world;
    expect(await store.tenants.ensure({ id: 'acme', name: 'Renamed' }, NOW + 1)).toEqual({
      id: 'acme',
      name: 'Acme',
      createdAt: NOW,
    });
    expect(await store.tenants.get('nobody')).toBeUndefined();
  });

  it('creates, versions, lists (byte order) and deletes switches', async () => {
    const { store } = world;
    const created = await store.resources.createSwitch(switchInput('sw2', 'Zeta'), NOW);
    expect(created).toEqual({
      ...switchInput('sw2', 'Zeta'),
      createdAt: NOW,
      updatedAt: NOW,
      version: 1,
    });
    await store.resources.createSwitch(switchInput('sw3', 'alpha'), NOW);
    expect((await store.resources.listSwitches()).map((s) => s.name)).toEqual(['Zeta', 'alpha', 'sw1']);

    const updated = await store.resources.updateSwitch(
      'sw2',
      { ...switchInput('sw2', 'Zeta'), enabled: false, maxCaps: 7 },
      1,
      NOW + 5,
    );
    expect(updated).toMatchObject({
      enabled: false,
      maxCaps: 7,
      version: 2,
      updatedAt: NOW + 5,
      createdAt: NOW,
    });
    await expect(store.resources.updateSwitch('sw2', switchInput('sw2'), 1, NOW)).rejects.toMatchObject({
      name: 'ConflictError',
      code: 'version_conflict',
    });
    await expect(
      store.resources.updateSwitch('nope', switchInput('nope'), undefined, NOW),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.resources.createSwitch(switchInput('sw4', 'alpha'), NOW)).rejects.toMatchObject({
      code: 'name_taken',
    });
    await expect(
      store.resources.updateSwitch('sw2', switchInput('sw2', 'alpha'), undefined, NOW),
    ).rejects.toMatchObject({ code: 'name_taken' });
    // sw1 carries gateway gw1.
    await expect(store.resources.deleteSwitch('sw1')).rejects.toMatchObject({ code: 'resource_in_use' });
    await store.resources.deleteSwitch('sw3');
    expect(await store.resources.getSwitch('sw3')).toBeUndefined();
    await expect(store.resources.deleteSwitch('sw3')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('keeps a gateway’s switches, replaced whole on update; refuses unknown switches and deleting a used gateway', async () => {
    const { store } = world;
    await store.resources.createSwitch(switchInput('sw0'), NOW);
    const gateway = await store.resources.createGateway(
      {
        id: 'gw2',
        name: 'carrier2',
        switchIds: ['sw1', 'sw0', 'sw1'],
        maxCaps: 30,
        maxConcurrent: 60,
        enabled: true,
      },
      NOW,
    );
    expect(gateway).toEqual({
      id: 'gw2',
      name: 'carrier2',
      switchIds: ['sw0', 'sw1'],
      maxCaps: 30,
      maxConcurrent: 60,
      enabled: true,
      createdAt: NOW,
      updatedAt: NOW,
      version: 1,
    });
    const updated = await store.resources.updateGateway(
      'gw2',
      { id: 'gw2', name: 'carrier2', switchIds: ['sw0'], maxCaps: null, maxConcurrent: null, enabled: false },
      1,
      NOW + 1,
    );
    expect(updated).toMatchObject({ switchIds: ['sw0'], maxCaps: null, enabled: false, version: 2 });
    await expect(
      store.resources.updateGateway('gw2', { ...updated, switchIds: ['sw1'] }, 1, NOW + 2),
    ).rejects.toMatchObject({ code: 'version_conflict' });
    // A failed update changed nothing.
    expect((await store.resources.getGateway('gw2'))?.switchIds).toEqual(['sw0']);
    await expect(
      store.resources.createGateway(
        {
          id: 'gw3',
          name: 'carrier3',
          switchIds: ['missing'],
          maxCaps: null,
          maxConcurrent: null,
          enabled: true,
        },
        NOW,
      ),
    ).rejects.toMatchObject({ code: 'resource_in_use' });
    expect(await store.resources.getGateway('gw3')).toBeUndefined();
    expect((await store.resources.listGateways()).map((g) => [g.id, g.switchIds])).toEqual([
      ['gw1', ['sw1']],
      ['gw2', ['sw0']],
    ]);
    await expect(store.resources.deleteGateway('gw1')).rejects.toMatchObject({ code: 'resource_in_use' });
    await store.resources.deleteGateway('gw2');
    await expect(store.resources.deleteGateway('gw2')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('creates lines with scheduling defaults, updates them and overrides their health', async () => {
    const { store } = world;
    const line = await store.resources.getLine('l1');
    expect(line).toEqual({
      id: 'l1',
      name: 'line-1',
      gatewayId: 'gw1',
      dialTemplate: 'sofia/gateway/{gateway}/{number}',
      numberFormat: 'e164',
      callerIds: ['1001'],
      caps: 5,
      maxConcurrent: 10,
      weight: 1,
      callerIdCaps: null,
      callerIdMaxConcurrent: null,
      healthOverride: null,
      tenantId: null,
      enabled: true,
      createdAt: NOW,
      updatedAt: NOW,
      version: 1,
    });
    const updated = await store.resources.updateLine(
      'l1',
      { ...line!, callerIds: ['1001', '1002'], weight: 3, callerIdCaps: 1, tenantId: 'acme' },
      1,
      NOW + 1,
    );
    expect(updated).toMatchObject({
      callerIds: ['1001', '1002'],
      weight: 3,
      callerIdCaps: 1,
      tenantId: 'acme',
      version: 2,
    });
    expect(await store.resources.setLineHealthOverride('l1', 'out', NOW + 2)).toMatchObject({
      healthOverride: 'out',
      version: 3,
      updatedAt: NOW + 2,
    });
    expect((await store.resources.setLineHealthOverride('l1', null, NOW + 3)).healthOverride).toBeNull();
    await expect(store.resources.setLineHealthOverride('nope', 'in', NOW)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(
      store.resources.createLine({ ...line!, id: 'l2', name: 'line-2', gatewayId: 'nope' }, NOW),
    ).rejects.toMatchObject({ code: 'resource_in_use' });
    await expect(store.resources.createLine({ ...line!, id: 'l2' }, NOW)).rejects.toMatchObject({
      code: 'name_taken',
    });
    await expect(store.resources.updateLine('l1', line!, 1, NOW)).rejects.toBeInstanceOf(ConflictError);
    expect((await store.resources.listLines()).map((l) => l.id)).toEqual(['l1']);
  });

  it('keeps campaigns tenant-scoped', async () => {
    const { store } = world;
    expect(await store.campaigns.get('acme', 'c1')).toMatchObject({
      id: 'c1',
      lineIds: ['l1'],
      status: 'active',
      schedule: null,
      selectionStrategy: 'answer_rate_first',
    });
    expect(await store.campaigns.get('other', 'c1')).toBeUndefined();
    await expect(store.campaigns.update('other', 'c1', { name: 'x' }, undefined, NOW)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(store.campaigns.setStatus('other', 'c1', 'paused', NOW)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(store.campaigns.stats('other', 'c1')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists a tenant’s campaigns by id with a cursor, and every active campaign across tenants', async () => {
    const { store } = world;
    for (const id of ['c4', 'c2', 'c3']) await store.campaigns.create(campaignInput(id, 'acme'), NOW);
    await store.campaigns.create(campaignInput('c9', 'other'), NOW);
    const first = await store.campaigns.list('acme', { limit: 3 });
    expect(first.items.map((c) => c.id)).toEqual(['c1', 'c2', 'c3']);
    expect(first.nextCursor).not.toBeNull();
    const second = await store.campaigns.list('acme', { limit: 3, cursor: first.nextCursor! });
    expect(second).toMatchObject({ items: [{ id: 'c4', lineIds: ['l1'] }], nextCursor: null });
    await store.campaigns.setStatus('acme', 'c2', 'paused', NOW);
    expect((await store.campaigns.listActive()).map((c) => c.id)).toEqual(['c1', 'c3', 'c4', 'c9']);
  });

  it('updates a campaign with a patch, its lines in the given order; checks versions and lines', async () => {
    const { store } = world;
    const line = (await store.resources.getLine('l1'))!;
    await store.resources.createLine({ ...line, id: 'l2', name: 'line-2' }, NOW);
    const schedule = {
      timeZone: 'Asia/Shanghai',
      windows: [{ days: [1, 2, 3, 4, 5], start: '09:00', end: '20:00' }],
    };
    const updated = await store.campaigns.update(
      'acme',
      'c1',
      { name: 'Renewals', lineIds: ['l2', 'l1'], schedule, selectionStrategy: 'round_robin', caps: 3 },
      1,
      NOW + 1,
    );
    expect(updated).toMatchObject({
      name: 'Renewals',
      lineIds: ['l2', 'l1'],
      schedule,
      selectionStrategy: 'round_robin',
      caps: 3,
      weight: 1,
      version: 2,
      updatedAt: NOW + 1,
    });
    await expect(store.campaigns.update('acme', 'c1', { name: 'x' }, 1, NOW)).rejects.toMatchObject({
      code: 'version_conflict',
    });
    await expect(
      store.campaigns.update('acme', 'c1', { lineIds: ['l1', 'ghost'] }, 2, NOW),
    ).rejects.toMatchObject({
      name: 'ConflictError',
      code: 'unknown_line',
    });
    // The refused update left the campaign as it was.
    expect(await store.campaigns.get('acme', 'c1')).toMatchObject({ lineIds: ['l2', 'l1'], version: 2 });
    await expect(store.campaigns.create(campaignInput('c5', 'acme', ['ghost']), NOW)).rejects.toMatchObject({
      code: 'unknown_line',
    });
    expect(await store.campaigns.get('acme', 'c5')).toBeUndefined();
  });

  it('counts a campaign’s tasks by status and outcome', async () => {
    const { store } = world;
    const [a, b] = [task('a'), task('b')];
    await store.tasks.insertMany([a, b, task('c')], { skipDuplicates: false, nowMs: NOW });
    await store.tasks.cancel('acme', a.id, NOW);
    await store.dispatch.claim(
      [
        {
          taskId: b.id,
          expectedVersion: 1,
          attempt: {
            id: '0190a0a0-0000-7000-8000-000000000001',
            taskId: b.id,
            campaignId: 'c1',
            tenantId: 'acme',
            workerId: 'w1',
            switchId: 'sw1',
            gatewayId: 'gw1',
            lineId: 'l1',
            callerId: null,
          },
        },
      ],
      NOW,
    );
    await store.dispatch.finish(
      [
        {
          attemptId: '0190a0a0-0000-7000-8000-000000000001',
          taskId: b.id,
          endedAtMs: NOW + 1,
          hangupCause: 'NORMAL_CLEARING',
          sipCode: 200,
          outcome: 'answered',
          mayHaveReachedCallee: true,
          next: { status: 'completed', outcome: 'answered' },
          countsAsAttempt: true,
        },
      ],
      NOW + 1,
    );
    expect(await store.campaigns.stats('acme', 'c1')).toEqual({
      byStatus: { queued: 1, dialing: 0, completed: 1, expired: 0, cancelled: 1 },
      byOutcome: { answered: 1 },
    });
  });
});
