import type { FastifyRequest } from 'fastify';
import { uuidv7 } from '../domain/ids.js';
import { auditEntryHash, canonicalJson } from '../security/audit-chain.js';
import type { AuditEntry, Store } from '../store/contract.js';
import { principalOf } from './auth.js';

/**
 * Records a sensitive operation in the hash-chained audit log (R1.10): who (the key), for which
 * tenant, from where, when, what, on what, and the state before and after. `before`/`after`
 * must be API views or counts — they hold masked numbers at most, never a plaintext number.
 *
 * Written after the change succeeds: a failure here fails the request (500) but cannot undo
 * the change; the store has no cross-repository transaction yet.
 */
export interface AuditEvent {
  action: string;
  target?: string;
  /** Defaults to the caller's tenant; null for platform-wide objects. */
  tenantId?: string | null;
  /** Defaults to the caller; given for what happens before anyone is authenticated (a login). */
  actor?: string;
  before?: unknown;
  after?: unknown;
}

export type AuditTrail = (request: FastifyRequest, event: AuditEvent) => Promise<AuditEntry>;

export function auditTrail(store: Store, clock: () => number): AuditTrail {
  return async (request, event) => {
    const principal = event.actor === undefined ? principalOf(request) : undefined;
    const at = clock();
    return store.audit.append(
      {
        id: uuidv7(at),
        at,
        actor: event.actor ?? principal!.actor,
        tenantId: event.tenantId === undefined ? (principal?.tenantId ?? null) : event.tenantId,
        sourceIp: request.ip,
        action: event.action,
        target: event.target ?? null,
        before: event.before === undefined ? null : canonicalJson(event.before),
        after: event.after === undefined ? null : canonicalJson(event.after),
      },
      auditEntryHash,
    );
  };
}
