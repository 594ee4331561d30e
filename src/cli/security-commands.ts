import { parseArgs } from 'node:util';
import { loadConfig, resolvedPaths } from '../config/config.js';
import { uuidv7 } from '../domain/ids.js';
import { openStore } from '../platform/resources.js';
import { auditEntryHash, canonicalJson, verifyAuditChain } from '../security/audit-chain.js';
import { rotateKeys } from '../security/key-rotation.js';
import { generateServiceToken, INTERNAL_ROLES, isInternalRole } from '../security/service-tokens.js';
import type { AuditDraft, Store } from '../store/contract.js';

export const SECURITY_HELP = `  audit verify  Check the audit log's hash chain; exit 1 if an entry was altered, removed or
                reordered (prints the head hash: keep it elsewhere to detect a cut tail).
  audit prune   Remove audit entries older than the retention (--retention-days, or
                SWITCHBOARD_AUDIT_RETENTION_DAYS; default 400, at least 183), keeping a checkpoint.
  keys rotate   Add a new active data key to the key file and re-seal every number and switch
                password under it; restart running platforms afterwards.
  tokens create --role <${INTERNAL_ROLES.join('|')}> [--name <n>]
                Make a service token for a platform process (/internal routes only); printed once.
  tokens list   Service tokens (never their secrets).  tokens revoke <id>  Revoke one at once.
`;

/** The first words of the commands this module runs (src/cli/main.ts dispatches on them). */
export const SECURITY_COMMANDS: ReadonlySet<string> = new Set(['audit', 'keys', 'tokens']);

export const DEFAULT_AUDIT_RETENTION_DAYS = 400;
/** R1.10 asks for at least six months. */
export const MIN_AUDIT_RETENTION_DAYS = 183;
const DAY_MS = 86_400_000;

type Print = (line: string) => void;

/** An entry written by the command line itself (no API key, no source address). */
async function auditFromCli(store: Store, action: string, after: unknown): Promise<void> {
  const at = Date.now();
  const draft: AuditDraft = {
    id: uuidv7(at),
    at,
    actor: 'cli',
    tenantId: null,
    sourceIp: null,
    action,
    target: null,
    before: null,
    after: canonicalJson(after),
  };
  await store.audit.append(draft, auditEntryHash);
}

export function retentionDays(text: string | undefined): number {
  const days = Number(text ?? DEFAULT_AUDIT_RETENTION_DAYS);
  if (!Number.isInteger(days) || days < MIN_AUDIT_RETENTION_DAYS) {
    throw new TypeError(
      `the audit retention is a whole number of days, at least ${MIN_AUDIT_RETENTION_DAYS}`,
    );
  }
  return days;
}

/**
 * `switchboard audit …`, `keys …` and `tokens …`; returns the exit code. The store is the
 * configured one: PostgreSQL when `SWITCHBOARD_DATABASE_URL` is set (schema
 * `SWITCHBOARD_DATABASE_SCHEMA`), else the SQLite file in the data folder.
 */
export async function runSecurityCommand(
  command: string,
  args: string[],
  print: Print,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      'data-dir': { type: 'string' },
      'retention-days': { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const action = `${command} ${positionals.join(' ')}`;
  const config = loadConfig(env, { dataDir: values['data-dir'] });
  const paths = resolvedPaths(config);

  const tokenAction = command === 'tokens' && ['create', 'list', 'revoke'].includes(positionals[0] ?? '');
  if (!['audit verify', 'audit prune', 'keys rotate'].includes(action) && !tokenAction) {
    print(`unknown command "${action}"\n\n${SECURITY_HELP}`);
    return 2;
  }
  if (action === 'keys rotate' && config.dataKeys) {
    print(
      'keys rotate: the data keys come from SWITCHBOARD_DATA_KEYS; rotate them there (add a key first in the list)',
    );
    return 2;
  }
  const store = await openStore(config);
  try {
    if (command === 'tokens') return await runTokens(store, positionals, values, print);
    if (action === 'audit verify') {
      const result = await verifyAuditChain(store.audit);
      for (const problem of result.problems)
        print(`entry ${problem.seq}: ${problem.kind} — ${problem.detail}`);
      print(
        `${result.ok ? 'ok' : 'FAILED'}: ${result.entries} entries checked after #${result.startedAfterSeq}; head ${
          result.head ? `#${result.head.seq} ${result.head.hash}` : 'none'
        }`,
      );
      return result.ok ? 0 : 1;
    }
    if (action === 'audit prune') {
      const days = retentionDays(values['retention-days'] ?? env.SWITCHBOARD_AUDIT_RETENTION_DAYS);
      const now = Date.now();
      const checkpoint = await store.audit.prune(now - days * DAY_MS, now);
      await auditFromCli(store, 'audit.prune', { retentionDays: days, pruned: checkpoint?.pruned ?? 0 });
      print(
        checkpoint
          ? `pruned ${checkpoint.pruned} entries through #${checkpoint.throughSeq}; the chain continues from ${checkpoint.throughHash}`
          : `nothing older than ${days} days`,
      );
      return 0;
    }
    const result = await rotateKeys(paths.keyFile, store.sealedValues);
    await auditFromCli(store, 'keys.rotate', result);
    print(
      `active key ${result.previousKeyId} → ${result.activeKeyId}; re-sealed ${Object.entries(result.resealed)
        .map(([table, n]) => `${n} in ${table}`)
        .join(', ')}`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

/** `tokens create|list|revoke`: service tokens for the platform's own processes. */
async function runTokens(
  store: Store,
  positionals: string[],
  values: { role?: string; name?: string },
  print: Print,
): Promise<number> {
  const [verb, id] = positionals;
  if (verb === 'list') {
    for (const t of await store.serviceTokens.list()) {
      const state = t.revokedAt === null ? 'active' : `revoked ${new Date(t.revokedAt).toISOString()}`;
      print(`${t.id}  ${t.role.padEnd(9)} ${t.tokenPrefix}…  ${t.name}  ${state}`);
    }
    return 0;
  }
  if (verb === 'revoke') {
    if (!id) {
      print('tokens revoke <id>');
      return 2;
    }
    const record = await store.serviceTokens.revoke(id, Date.now());
    await auditFromCli(store, 'service_token.revoke', {
      id: record.id,
      role: record.role,
      name: record.name,
    });
    print(`revoked ${record.id}`);
    return 0;
  }
  const role = values.role ?? '';
  if (!isInternalRole(role)) {
    print(`tokens create --role <${INTERNAL_ROLES.join('|')}> [--name <name>]`);
    return 2;
  }
  const now = Date.now();
  const secret = generateServiceToken();
  const record = await store.serviceTokens.create({
    id: uuidv7(now),
    role,
    name: values.name ?? role,
    tokenHash: secret.hash,
    tokenPrefix: secret.prefix,
    createdAt: now,
  });
  await auditFromCli(store, 'service_token.create', { id: record.id, role, name: record.name });
  print(`service token ${record.id} (${role}); shown once, keep it in the process's secret store:`);
  print(secret.token);
  return 0;
}
