import { MinHeap } from './heap.js';

/** A task as the dispatch core holds it: enough to order it and to hand it on. */
export interface QueuedTask {
  id: string;
  version: number;
  priority: number;
  notBefore: number;
  expiresAt: number | null;
  /**
   * The route its last attempt failed on without reaching the network (`not_dialed`): the task
   * goes out again at once, on another resource when there is one (R3.6).
   */
  avoid?: { switchId: string; lineId: string };
}

function readyBefore(a: QueuedTask, b: QueuedTask): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.notBefore !== b.notBefore) return a.notBefore < b.notBefore;
  return a.id < b.id;
}

/**
 * One campaign's queue (R3.7) in the core: tasks due now ordered by priority, then due time, then
 * age; tasks due later wait in a second heap by due time and move over when their time comes.
 * It is an index: the store stays the truth, and a stale entry is caught by the claim.
 */
export class CampaignQueue<T extends QueuedTask = QueuedTask> {
  private readonly ready = new MinHeap<T>(readyBefore);
  private readonly later = new MinHeap<T>(
    (a, b) => a.notBefore < b.notBefore || (a.notBefore === b.notBefore && a.id < b.id),
  );
  private readonly known = new Set<string>();

  get size(): number {
    return this.ready.size + this.later.size;
  }

  has(taskId: string): boolean {
    return this.known.has(taskId);
  }

  add(task: T, nowMs: number): void {
    if (this.known.has(task.id)) return;
    this.known.add(task.id);
    if (task.notBefore <= nowMs) this.ready.push(task);
    else this.later.push(task);
  }

  /** The best task due at `nowMs`, dropping expired ones (returned in `expired`). */
  head(nowMs: number, expired?: T[]): T | undefined {
    while (this.later.size > 0 && this.later.peek()!.notBefore <= nowMs) this.ready.push(this.later.pop()!);
    for (;;) {
      const top = this.ready.peek();
      if (!top || top.expiresAt === null || top.expiresAt > nowMs) return top;
      this.ready.pop();
      this.known.delete(top.id);
      expired?.push(top);
    }
  }

  /** Takes the head returned by `head()`. */
  take(): T | undefined {
    const task = this.ready.pop();
    if (task) this.known.delete(task.id);
    return task;
  }

  /** When the next not-yet-due task falls due, if any. */
  nextDueAtMs(): number | null {
    return this.later.peek()?.notBefore ?? null;
  }

  readyCount(): number {
    return this.ready.size;
  }
}
