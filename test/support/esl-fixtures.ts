/**
 * Reads the recorded FreeSWITCH Event Socket transcripts in ../shared/fixtures/freeswitch-esl/
 * (format described in that folder's README.md): `@@ <conn> <dir> <n> bytes t=+<s>s`, then
 * exactly n raw bytes, then one separator "\n".
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURE_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'shared',
  'fixtures',
  'freeswitch-esl',
);

export type RecordDirection = 'C->S' | 'S->C' | 'CONNECT' | 'EOF';

export interface TranscriptRecord {
  connection: string;
  direction: RecordDirection;
  atSeconds: number;
  bytes: Buffer;
}

export function fixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((name) => /^\d\d-.*\.txt$/.test(name))
    .sort();
}

export function readTranscript(name: string): TranscriptRecord[] {
  const raw = readFileSync(join(FIXTURE_DIR, name));
  const records: TranscriptRecord[] = [];
  let offset = 0;
  while (offset < raw.length) {
    const lineEnd = raw.indexOf(0x0a, offset);
    const end = lineEnd === -1 ? raw.length : lineEnd;
    const line = raw.subarray(offset, end).toString('latin1');
    offset = end + 1;
    const marker = /^@@ (\S+) (C->S|S->C|CONNECT|EOF) (\d+) bytes t=\+([\d.]+)s$/.exec(line);
    if (!marker) continue; // header comments, recorder annotations, blank separators
    const length = Number(marker[3]);
    records.push({
      connection: marker[1]!,
      direction: marker[2] as RecordDirection,
      atSeconds: Number(marker[4]),
      bytes: raw.subarray(offset, offset + length),
    });
    offset += length + 1; // the data, then the one separator "\n"
  }
  return records;
}

/** The exact byte stream FreeSWITCH sent on one connection. */
export function serverStream(records: TranscriptRecord[], connection: string): Buffer {
  return Buffer.concat(
    records.filter((r) => r.connection === connection && r.direction === 'S->C').map((r) => r.bytes),
  );
}

export function connections(records: TranscriptRecord[]): string[] {
  return [...new Set(records.map((r) => r.connection))];
}
