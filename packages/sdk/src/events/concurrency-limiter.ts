/**
 * Bounds how many handlers of one subscription run at once, and lets `close()` wait for the
 * in-flight ones. Each run is tracked, so no handler promise ever floats.
 */
export class ConcurrencyLimiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  /** True when every slot is taken (a caller then awaits {@link slot}; skipping the await saves a turn of the microtask queue per message). */
  get full(): boolean {
    return this.running >= this.limit;
  }

  /** Resolves once a slot is free (immediately when one is). */
  slot(): Promise<void> {
    if (this.running < this.limit) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Runs `task` in a slot without awaiting it; `onError` sees anything it throws. */
  run(task: () => Promise<void>, onError: (err: unknown) => void): void {
    this.running++;
    // One reaction for both outcomes (not .catch().finally(): two more promises per task).
    task().then(this.release, (err: unknown) => {
      // The slot is freed even if onError throws, or idle() (and so close()) would never resolve.
      try {
        onError(err);
      } finally {
        this.release();
      }
    });
  }

  private readonly release = (): void => {
    this.running--;
    this.waiting.shift()?.();
    if (this.running === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  };

  /** Resolves when nothing runs. */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
