/**
 * Counts the engine's work in flight (episodes, running activities) so callers can wait until
 * nothing runs any more. Work that only waits for the clock does not count: on a virtual clock
 * that wait ends only when someone moves time.
 */
export class WorkTracker {
  private count = 0;
  private waiters: (() => void)[] = [];

  /** Marks one piece of work as started; call the returned function (once) when it ends. */
  begin(): () => void {
    this.count += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.count -= 1;
      if (this.count === 0) this.release();
    };
  }

  get busy(): boolean {
    return this.count > 0;
  }

  whenIdle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
