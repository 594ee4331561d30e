import { createHash } from 'node:crypto';
import { AUDIT_GENESIS, type AuditEntry, type AuditRepository } from '../store/contract.js';

/**
 * The audit log's hash chain: each entry's hash is SHA-256 over its canonical content and the
 * previous entry's hash, so changing, removing or reordering an entry breaks every link after
 * it. The database alone cannot prove a truncated tail: `verifyAuditChain` reports the head
 * hash, which an operator can record elsewhere (a ticket, a WORM bucket) and compare later.
 */
/** The hashed content: every column but `seq` (the order is what the links prove). */
export function auditEntryHash(entry: Omit<AuditEntry, 'hash' | 'seq'>): string {
  const canonical = JSON.stringify([
    entry.id,
    entry.at,
    entry.actor,
    entry.tenantId,
    entry.sourceIp,
    entry.action,
    entry.target,
    entry.before,
    entry.after,
    entry.prevHash,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/** JSON with sorted keys, so the same before/after always produces the same text (and hash). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

export type AuditProblemKind = 'altered' | 'removed' | 'reordered' | 'truncated';

export interface AuditProblem {
  kind: AuditProblemKind;
  /** The entry where the problem shows. */
  seq: number;
  detail: string;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** Where verification started: the genesis, or the last prune checkpoint. */
  startedAfterSeq: number;
  head: { seq: number; hash: string } | null;
  problems: AuditProblem[];
}

/** Reads the whole chain in pages and checks every entry and every link. */
export async function verifyAuditChain(audit: AuditRepository, pageSize = 5_000): Promise<AuditVerification> {
  const checkpoint = await audit.checkpoint();
  const startSeq = checkpoint?.throughSeq ?? 0;
  let expectedPrev = checkpoint?.throughHash ?? AUDIT_GENESIS;
  let expectedSeq = startSeq + 1;
  const problems: AuditProblem[] = [];
  const hashes = new Set<string>([expectedPrev]);
  const brokenLinks: { seq: number; prevHash: string }[] = [];
  let entries = 0;
  let last: { seq: number; hash: string } | null = null;

  for (let after = startSeq; ; ) {
    const page = await audit.list({ afterSeq: after, limit: pageSize });
    if (page.length === 0) break;
    for (const entry of page) {
      entries += 1;
      if (entry.seq > expectedSeq) {
        problems.push({
          kind: 'removed',
          seq: entry.seq,
          detail: `entries ${expectedSeq}..${entry.seq - 1} are missing`,
        });
      }
      if (auditEntryHash(entry) !== entry.hash) {
        problems.push({ kind: 'altered', seq: entry.seq, detail: 'content does not match its hash' });
      }
      if (entry.prevHash !== expectedPrev) brokenLinks.push({ seq: entry.seq, prevHash: entry.prevHash });
      hashes.add(entry.hash);
      expectedPrev = entry.hash;
      expectedSeq = entry.seq + 1;
      last = { seq: entry.seq, hash: entry.hash };
    }
    after = page.at(-1)!.seq;
  }
  // A link to an entry that exists elsewhere in the log is a reordering; to none, a removal.
  for (const link of brokenLinks) {
    const reordered = hashes.has(link.prevHash);
    if (!reordered && problems.some((p) => p.kind === 'removed' && p.seq === link.seq)) continue;
    problems.push({
      kind: reordered ? 'reordered' : 'removed',
      seq: link.seq,
      detail: reordered
        ? 'its predecessor is elsewhere in the log'
        : 'its predecessor is not in the log (removed or altered)',
    });
  }
  const head = (await audit.head()) ?? null;
  if (head && (last === null ? head.seq > startSeq : head.seq !== last.seq || head.hash !== last.hash)) {
    problems.push({
      kind: 'truncated',
      seq: head.seq,
      detail: `the log ends at ${last?.seq ?? startSeq} but its head records entry ${head.seq}`,
    });
  }
  problems.sort((a, b) => a.seq - b.seq);
  return { ok: problems.length === 0, entries, startedAfterSeq: startSeq, head, problems };
}
