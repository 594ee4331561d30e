/** A sleep that anyone can cut short: the scheduler waits on it when it has nothing due. */
export class Wakeup {
  private pending: { resolve: () => void; timer: NodeJS.Timeout } | null = null;
  private signalled = false;

  wait(ms: number): Promise<void> {
    if (this.signalled) {
      this.signalled = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.fire(), Math.max(0, ms));
      this.pending = { resolve, timer };
    });
  }

  /** Wakes the sleeper now, or makes its next wait return at once. */
  wake(): void {
    if (this.pending) this.fire();
    else this.signalled = true;
  }

  private fire(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    this.signalled = false;
    clearTimeout(pending.timer);
    pending.resolve();
  }
}
