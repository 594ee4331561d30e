/**
 * What really happened on the simulated switches, for tests and benchmarks to compare the
 * platform's records against. Optionally appended to a JSON-lines file.
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';

export type GroundTruthEntry =
  | {
      type: 'originate';
      atMs: number;
      node: string;
      gateway: string;
      destination: string;
      uuid: string;
      jobUuid: string;
      variables: Record<string, string>;
      accepted: boolean;
      cause?: string;
    }
  | { type: 'answer'; atMs: number; node: string; uuid: string }
  | { type: 'hangup'; atMs: number; node: string; uuid: string; cause: string; answered: boolean };

export interface GroundTruth {
  entries(): readonly GroundTruthEntry[];
  onEntry(listener: (entry: GroundTruthEntry) => void): () => void;
}

export class GroundTruthLog implements GroundTruth {
  private readonly log: GroundTruthEntry[] = [];
  private readonly listeners = new Set<(entry: GroundTruthEntry) => void>();
  private readonly file: WriteStream | undefined;
  private fileError: Error | undefined;

  constructor(recordPath?: string) {
    if (recordPath !== undefined) {
      this.file = createWriteStream(recordPath, { flags: 'a' });
      // Kept and rethrown on close(): a lost ground-truth file must fail the run, not pass silently.
      this.file.on('error', (error) => {
        this.fileError = error;
      });
    }
  }

  record(entry: GroundTruthEntry): void {
    this.log.push(entry);
    this.file?.write(`${JSON.stringify(entry)}\n`);
    for (const listener of this.listeners) listener(entry);
  }

  entries(): readonly GroundTruthEntry[] {
    return this.log;
  }

  onEntry(listener: (entry: GroundTruthEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Flushes the file; the JSONL is complete once this resolves. */
  async close(): Promise<void> {
    const file = this.file;
    if (file) await new Promise<void>((resolve) => file.end(resolve));
    if (this.fileError) throw this.fileError;
  }
}

export function readGroundTruthFile(path: string): GroundTruthEntry[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      const entry: unknown = JSON.parse(line);
      if (typeof entry !== 'object' || entry === null || !('type' in entry)) {
        throw new Error(`${path}:${i + 1}: not a ground-truth entry`);
      }
      return entry as GroundTruthEntry;
    });
}
