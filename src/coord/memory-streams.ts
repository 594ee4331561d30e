import type { Subscription } from './cluster-contract.js';
import type { StreamKind, StreamTransport } from './stream-bus.js';

export interface MemoryStreamLimits {
  /** Entries kept per stream of each kind (trimmed approximately, like XADD MAXLEN ~). */
  maxLength: Record<StreamKind, number>;
  /** Entries per delivered batch. */
  batchSize: number;
}

interface MemoryStream {
  readonly kind: StreamKind;
  entries: string[];
  /** Sequence number of `entries[0]`; sequence numbers never go back, trimmed or not. */
  firstSeq: number;
  readonly followers: Set<MemoryFollower>;
}

/** Streams in one process's memory. Delivery is always asynchronous (never inside `append`). */
export class MemoryStreams implements StreamTransport {
  private readonly streams = new Map<string, MemoryStream>();

  constructor(private readonly limits: MemoryStreamLimits) {}

  async append(kind: StreamKind, name: string, payloads: readonly string[]): Promise<void> {
    const stream = this.stream(kind, name);
    for (const payload of payloads) stream.entries.push(payload);
    const cap = this.limits.maxLength[kind];
    // Trim in steps, not on every append: shifting a full array per message would cost O(cap).
    if (stream.entries.length > cap + Math.max(1, Math.floor(cap / 8))) {
      const excess = stream.entries.length - cap;
      stream.entries.splice(0, excess);
      stream.firstSeq += excess;
    }
    for (const follower of stream.followers) follower.wake();
  }

  follow(kind: StreamKind, name: string, onBatch: (payloads: string[]) => Promise<void>): Subscription {
    const stream = this.stream(kind, name);
    const follower = new MemoryFollower(stream, onBatch, this.limits.batchSize, () => {
      stream.followers.delete(follower);
      // A replies stream belongs to one bus: it goes with its only reader.
      if (kind === 'reply' && stream.followers.size === 0) this.streams.delete(`${kind}:${name}`);
    });
    stream.followers.add(follower);
    return follower;
  }

  private stream(kind: StreamKind, name: string): MemoryStream {
    const key = `${kind}:${name}`;
    let stream = this.streams.get(key);
    if (stream === undefined) {
      stream = { kind, entries: [], firstSeq: 0, followers: new Set() };
      this.streams.set(key, stream);
    }
    return stream;
  }
}

class MemoryFollower implements Subscription {
  /** Sequence number of the next entry to deliver. */
  private cursor: number;
  private isScheduled = false;
  private isDelivering = false;
  private isClosed = false;

  constructor(
    private readonly stream: MemoryStream,
    private readonly onBatch: (payloads: string[]) => Promise<void>,
    private readonly batchSize: number,
    private readonly detach: () => void,
  ) {
    this.cursor = stream.firstSeq + stream.entries.length;
  }

  wake(): void {
    if (this.isClosed || this.isScheduled || this.isDelivering) return;
    this.isScheduled = true;
    setImmediate(() => {
      this.isScheduled = false;
      void this.deliver();
    });
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.detach();
  }

  private async deliver(): Promise<void> {
    this.isDelivering = true;
    try {
      while (!this.isClosed) {
        const { entries, firstSeq } = this.stream;
        // Entries trimmed before this follower read them are lost to it (at-most-once).
        this.cursor = Math.max(this.cursor, firstSeq);
        const start = this.cursor - firstSeq;
        if (start >= entries.length) return;
        const batch = entries.slice(start, start + this.batchSize);
        this.cursor += batch.length;
        await this.onBatch(batch);
      }
    } finally {
      this.isDelivering = false;
    }
  }
}
