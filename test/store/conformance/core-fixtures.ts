import { afterEach, beforeEach } from 'vitest';
import { uuidv7 } from '../../../src/domain/ids.js';
import { DEFAULT_RETRY_POLICY } from '../../../src/domain/retry-policy.js';
import type { AttemptEnding, Claim, NewTask, Store } from '../../../src/store/contract.js';
import type { StoreKind } from '../../support/stores.js';

/** Shared world of the core conformance files: tenants acme and other, one switch, gateway, line, campaign. */
export const NOW = 1_800_000_000_000; // 2027-01-15T08:00:00Z

/** A fresh, seeded store for each test of the surrounding describe. */
export function freshStorePerTest(kind: StoreKind): { readonly store: Store } {
  const holder = { store: undefined as unknown as Store };
  let dispose: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    const opened = await kind.open();
    holder.store = opened.store;
    dispose = opened.dispose;
    await seed(opened.store);
  });
  afterEach(async () => {
    await dispose?.();
    dispose = undefined;
  });
  return holder;
}

export async function seed(s: Store): Promise<void> {
  await s.tenants.ensure({ id: 'acme', name: 'Acme' }, NOW);
  await s.tenants.ensure({ id: 'other', name: 'Other' }, NOW);
  await s.resources.createSwitch(
    {
      id: 'sw1',
      name: 'sw1',
      eslHost: '127.0.0.1',
      eslPort: 8021,
      eslPasswordSealed: 'sealed',
      maxSessions: 100,
      maxCaps: 10,
      enabled: true,
    },
    NOW,
  );
  await s.resources.createGateway(
    { id: 'gw1', name: 'carrier1', switchIds: ['sw1'], maxCaps: null, maxConcurrent: null, enabled: true },
    NOW,
  );
  await s.resources.createLine(
    {
      id: 'l1',
      name: 'line-1',
      gatewayId: 'gw1',
      dialTemplate: 'sofia/gateway/{gateway}/{number}',
      numberFormat: 'e164',
      callerIds: ['1001'],
      caps: 5,
      maxConcurrent: 10,
      tenantId: null,
      enabled: true,
    },
    NOW,
  );
  await s.campaigns.create(campaignInput('c1', 'acme'), NOW);
}

export function campaignInput(id: string, tenantId: string, lineIds: string[] = ['l1']) {
  return {
    id,
    tenantId,
    name: `Campaign ${id}`,
    weight: 1,
    lineIds,
    defaultRegion: 'CN',
    callerId: null,
    retryPolicy: DEFAULT_RETRY_POLICY,
    ringTimeoutSec: 30,
    maxCallDurationSec: 600,
    caps: null,
    maxConcurrent: null,
  };
}

let taskSeq = 0;

/** A new task of campaign c1 (acme) whose number is `number`; ids grow with each call. */
export function task(number: string, extra: Partial<NewTask> = {}): NewTask {
  return {
    id: uuidv7(NOW + taskSeq++),
    tenantId: 'acme',
    campaignId: 'c1',
    numberSealed: `sealed-${number}`,
    numberIndex: `idx-${number}`,
    numberMasked: '+86***',
    variables: { name: 'x' },
    priority: 0,
    notBefore: NOW,
    expiresAt: null,
    externalRef: null,
    ...extra,
  };
}

/** A claim of a task (campaign c1, acme) at `version`, with a fresh attempt id. */
export function claimOf(t: Pick<NewTask, 'id'>, version = 1, workerId = 'w1'): Claim {
  return {
    taskId: t.id,
    expectedVersion: version,
    attempt: {
      id: uuidv7(),
      taskId: t.id,
      campaignId: 'c1',
      tenantId: 'acme',
      workerId,
      switchId: 'sw1',
      gatewayId: 'gw1',
      lineId: 'l1',
      callerId: '1001',
    },
  };
}

/** An ending that sends the task back to the queue (busy, retry later). */
export function busyEnding(claim: Claim, endedAtMs: number): AttemptEnding {
  return {
    attemptId: claim.attempt.id,
    taskId: claim.taskId,
    endedAtMs,
    hangupCause: 'USER_BUSY',
    sipCode: 486,
    outcome: 'busy',
    mayHaveReachedCallee: true,
    next: { status: 'queued', notBefore: endedAtMs + 300_000 },
    countsAsAttempt: true,
  };
}
