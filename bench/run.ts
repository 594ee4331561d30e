/**
 * `npm run bench -- <name> [args…]`: runs bench/<name>.ts, whose default export returns the named
 * figures; prints them and writes them to bench/results/<name>.json with the machine's facts.
 * Benchmarks are measurements, never tests: nothing here passes or fails on a threshold.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type BenchFigures = Record<string, number | string | boolean | Record<string, unknown>>;
export type Bench = (args: string[]) => Promise<BenchFigures>;

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3));

const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <name> [args]\navailable: ${available.join(', ')}\n`);
  process.exit(name ? 2 : 1);
}
const bench = (await import(join(here, `${name}.ts`))) as { default: Bench };
const startedAt = new Date().toISOString();
const figures = await bench.default(args);
const result = {
  bench: name,
  startedAt,
  machine: {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  },
  figures,
};
mkdirSync(join(here, 'results'), { recursive: true });
const out = join(here, 'results', `${name}.json`);
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(figures, null, 2)}\nwritten to ${out}\n`);
