/**
 * At most `limit` holders at once; later callers wait their turn in arrival order. The engine
 * uses it for host.json's maxConcurrentOrchestratorFunctions (episodes across instances).
 */
export class ConcurrencyLimit {
  private holders = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`A concurrency limit must be at least 1, got ${limit}`);
  }

  /** Resolves with the function that gives the slot back (calling it twice is harmless). */
  async acquire(): Promise<() => void> {
    if (this.holders < this.limit) this.holders += 1;
    // The slot is handed over by release(), so `holders` already counts this caller.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.holders -= 1;
    };
  }
}
