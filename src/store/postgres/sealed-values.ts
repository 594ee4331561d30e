import type { SealedValueRepository } from '../contract.js';
import type { PgDatabase } from './database.js';

/** Every column that holds a vault-sealed value, with its table's key (fixed names, never input). */
const SEALED_COLUMNS = [
  { table: 'tasks', key: 'id', column: 'number_sealed' },
  { table: 'switches', key: 'id', column: 'esl_password_sealed' },
] as const;

/**
 * Key rotation's re-sealing pass: each table is read in key order, a batch at a time, and each
 * batch is written back by one UPDATE (its own transaction), so a running platform is never held
 * for long and a crash half-way leaves every value readable (old and new keys are both in the
 * key file). A re-run skips what is already under the active key.
 */
export class PgSealedValues implements SealedValueRepository {
  constructor(private readonly db: PgDatabase) {}

  async resealAll(reseal: (sealed: string) => string, batchSize: number): Promise<Record<string, number>> {
    const rewritten: Record<string, number> = {};
    for (const { table, key, column } of SEALED_COLUMNS) {
      rewritten[table] = 0;
      let after = '';
      for (;;) {
        const { rows } = await this.db.query<{ id: string; sealed: string }>(
          `SELECT ${key} AS id, ${column} AS sealed FROM ${table} WHERE ${key} > $1 ORDER BY ${key} LIMIT $2`,
          [after, batchSize],
        );
        if (rows.length === 0) break;
        const changed = rows
          .map((row) => ({ id: row.id, old: row.sealed, next: reseal(row.sealed) }))
          .filter((row) => row.next !== row.old);
        if (changed.length > 0) {
          // Only where unchanged since read: a row rewritten meanwhile keeps its newer value.
          const result = await this.db.query(
            `UPDATE ${table} AS t SET ${column} = v.next
             FROM unnest($1::text[], $2::text[], $3::text[]) AS v(id, old, next)
             WHERE t.${key} = v.id AND t.${column} = v.old`,
            [changed.map((c) => c.id), changed.map((c) => c.old), changed.map((c) => c.next)],
          );
          rewritten[table] += result.rowCount ?? 0;
        }
        after = rows.at(-1)!.id;
      }
    }
    return rewritten;
  }

  async countByKeyId(): Promise<Record<string, Record<string, number>>> {
    const counts: Record<string, Record<string, number>> = {};
    for (const { table, column } of SEALED_COLUMNS) {
      // `v1.<keyId>.<iv>.<ciphertext>`: the key id is the second dot-separated field.
      const { rows } = await this.db.query<{ key_id: string; n: number }>(
        `SELECT split_part(${column}, '.', 2) AS key_id, COUNT(*) AS n FROM ${table} GROUP BY 1`,
      );
      counts[table] = Object.fromEntries(rows.map((r) => [r.key_id, r.n]));
    }
    return counts;
  }
}
