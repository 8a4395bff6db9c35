/**
 * The demo's traffic: a few callers calling `echo` in a loop through the router, counting which
 * instance answered each call (the echo reply names it) and every failure — in total, per phase
 * of the demo (steady, failover, recovered), and per window: `window()` hands out the counts
 * since the previous window, for the live per-second view.
 */
import type { AegisClient } from '@aegis-ipc/sdk';

export interface CallCounts {
  readonly ok: number;
  readonly errors: number;
  /** Successful calls per answering instance. */
  readonly byInstance: ReadonlyMap<string, number>;
  /** Failures per error code. */
  readonly byError: ReadonlyMap<string, number>;
}

export interface CallerLoopOptions {
  readonly serviceName: string;
  readonly callers: number;
  readonly pauseMs: number;
  readonly timeoutMs: number;
}

class MutableCounts implements CallCounts {
  ok = 0;
  errors = 0;
  readonly byInstance = new Map<string, number>();
  readonly byError = new Map<string, number>();
}

export class CallerLoop {
  readonly #client: AegisClient;
  readonly #options: CallerLoopOptions;
  readonly #total = new MutableCounts();
  readonly #phases = new Map<string, MutableCounts>();
  #phase = new MutableCounts();
  #window = new MutableCounts();
  #running: Promise<void[]> | undefined;
  #stopping = false;
  #seq = 0;

  constructor(client: AegisClient, options: CallerLoopOptions) {
    this.#client = client;
    this.#options = options;
  }

  start(): void {
    if (this.#running) return;
    this.#running = Promise.all(Array.from({ length: this.#options.callers }, () => this.#caller()));
  }

  /** Stops after the calls in flight have finished. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#running;
  }

  /** Counts since the previous call of `window()`. */
  window(): CallCounts {
    const w = this.#window;
    this.#window = new MutableCounts();
    return w;
  }

  get total(): CallCounts {
    return this.#total;
  }

  /** Calls completing from now on are counted in `phase` as well. */
  beginPhase(phase: string): void {
    let counts = this.#phases.get(phase);
    if (counts === undefined) this.#phases.set(phase, (counts = new MutableCounts()));
    this.#phase = counts;
  }

  phase(phase: string): CallCounts {
    return this.#phases.get(phase) ?? new MutableCounts();
  }

  async #caller(): Promise<void> {
    while (!this.#stopping) {
      const seq = this.#seq++;
      try {
        const reply = await this.#client.call<{ n?: unknown; instance_id?: unknown }>(this.#options.serviceName, 'echo', { n: seq }, { timeoutMs: this.#options.timeoutMs });
        // An answer to someone else's call would be a routing bug; count it as a failure.
        if (reply.n !== seq || typeof reply.instance_id !== 'string') this.#failed('WRONG_ANSWER');
        else this.#answered(reply.instance_id);
      } catch (err) {
        this.#failed(typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : 'UNKNOWN');
      }
      await new Promise((resolve) => setTimeout(resolve, this.#options.pauseMs));
    }
  }

  #answered(instanceId: string): void {
    for (const c of [this.#total, this.#phase, this.#window]) {
      c.ok++;
      c.byInstance.set(instanceId, (c.byInstance.get(instanceId) ?? 0) + 1);
    }
  }

  #failed(code: string): void {
    for (const c of [this.#total, this.#phase, this.#window]) {
      c.errors++;
      c.byError.set(code, (c.byError.get(code) ?? 0) + 1);
    }
  }
}
