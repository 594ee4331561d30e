import type { SealedValueRepository } from '../contract.js';
import type { SqliteDatabase } from './database.js';

/** Every column that holds a vault-sealed value, with its table's key. */
const SEALED_COLUMNS = [
  { table: 'tasks', key: 'id', column: 'number_sealed' },
  { table: 'switches', key: 'id', column: 'esl_password_sealed' },
] as const;

export class SqliteSealedValues implements SealedValueRepository {
  constructor(private readonly db: SqliteDatabase) {}

  async resealAll(reseal: (sealed: string) => string, batchSize: number): Promise<Record<string, number>> {
    const rewritten: Record<string, number> = {};
    for (const { table, key, column } of SEALED_COLUMNS) {
      rewritten[table] = 0;
      const page = this.db.prepare(
        `SELECT ${key} AS id, ${column} AS sealed FROM ${table} WHERE ${key} > ? ORDER BY ${key} LIMIT ?`,
      );
      // Only if unchanged since read: a row rewritten meanwhile keeps its newer value.
      const write = this.db.prepare(`UPDATE ${table} SET ${column} = ? WHERE ${key} = ? AND ${column} = ?`);
      let after = '';
      for (;;) {
        const rows = page.all(after, batchSize) as { id: string; sealed: string }[];
        if (rows.length === 0) break;
        // Each batch is its own transaction: a running platform is never blocked for long, and a
        // crash half-way leaves every value readable (old and new keys are both in the key file).
        rewritten[table] += this.db.transaction(() => {
          let n = 0;
          for (const row of rows) {
            const next = reseal(row.sealed);
            if (next !== row.sealed) n += write.run(next, row.id, row.sealed).changes;
          }
          return n;
        })();
        after = rows.at(-1)!.id;
      }
    }
    return rewritten;
  }

  async countByKeyId(): Promise<Record<string, Record<string, number>>> {
    const counts: Record<string, Record<string, number>> = {};
    for (const { table, column } of SEALED_COLUMNS) {
      const rows = this.db
        .prepare(
          `SELECT substr(${column}, 4, instr(substr(${column}, 4), '.') - 1) AS key_id, COUNT(*) AS n
           FROM ${table} GROUP BY key_id`,
        )
        .all() as { key_id: string; n: number }[];
      counts[table] = Object.fromEntries(rows.map((r) => [r.key_id, r.n]));
    }
    return counts;
  }
}
