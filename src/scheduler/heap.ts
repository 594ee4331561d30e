/** A binary min-heap with a caller's ordering; O(log n) push and pop, no allocation per operation. */
export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    // Sift up by moving parents down into the hole, then drop the item in once.
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = items[parent]!;
      if (!this.before(item, above)) break;
      items[i] = above;
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    const n = items.length;
    if (n > 0 && last !== undefined) {
      // Sift down the hole at the root, then put the last item where it belongs.
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        let child = left;
        if (right < n && this.before(items[right]!, items[left]!)) child = right;
        if (!this.before(items[child]!, last)) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }

  /** Removes every item matching `drop` (O(n)); used rarely, e.g. when a campaign leaves. */
  removeWhere(drop: (item: T) => boolean): void {
    const kept = this.items.filter((item) => !drop(item));
    this.items.length = 0;
    for (const item of kept) this.push(item);
  }
}
