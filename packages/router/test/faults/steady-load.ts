/**
 * Steady call load for the fault tests: `callers` loops call `echo` with a unique request id and
 * record, per call, when it started and ended, which instance answered, and whether the answer
 * was the answer to *this* call. Bounded: every loop stops at `stop()` or after `maxMs`.
 */
import type { AegisClient } from '@aegis-ipc/sdk';

export interface CallRecord {
  readonly requestId: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** The answering instance, when the call succeeded. */
  readonly instanceId?: string;
  /** The error code, when it failed. */
  readonly error?: string;
  /** The answer carried another call's request id (must never happen). */
  readonly wrongAnswer?: boolean;
}

export interface SteadyLoadOptions {
  readonly serviceName: string;
  readonly callers: number;
  /** Pause between two calls of one caller (ms). */
  readonly pauseMs: number;
  /** Hard bound on the run (ms). */
  readonly maxMs: number;
  readonly timeoutMs?: number;
}

export class SteadyLoad {
  readonly records: CallRecord[] = [];
  readonly #client: AegisClient;
  readonly #options: SteadyLoadOptions;
  #stopping = false;
  #running: Promise<void[]> | undefined;
  #seq = 0;

  constructor(client: AegisClient, options: SteadyLoadOptions) {
    this.#client = client;
    this.#options = options;
  }

  start(): void {
    const deadline = Date.now() + this.#options.maxMs;
    this.#running = Promise.all(Array.from({ length: this.#options.callers }, (_, i) => this.#caller(i, deadline)));
  }

  /** Stops sending and waits for the calls in flight (they may be failing over). */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#running;
  }

  async #caller(index: number, deadline: number): Promise<void> {
    while (!this.#stopping && Date.now() < deadline) {
      const requestId = `r${index}-${this.#seq++}`;
      const startedAt = Date.now();
      try {
        const reply = await this.#client.call<{ request_id?: unknown; instance_id?: unknown }>(this.#options.serviceName, 'echo', { request_id: requestId }, { timeoutMs: this.#options.timeoutMs });
        const instanceId = typeof reply.instance_id === 'string' ? reply.instance_id : undefined;
        this.records.push({ requestId, startedAt, endedAt: Date.now(), instanceId, wrongAnswer: reply.request_id !== requestId });
      } catch (err) {
        const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : String(err);
        this.records.push({ requestId, startedAt, endedAt: Date.now(), error: code });
      }
      await new Promise((resolve) => setTimeout(resolve, this.#options.pauseMs));
    }
  }
}

/** Calls per answering instance among `records`. */
export function countByInstance(records: readonly CallRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) if (r.instanceId !== undefined) counts.set(r.instanceId, (counts.get(r.instanceId) ?? 0) + 1);
  return counts;
}

/** Max/min of the counts of `ids` (Infinity when one got nothing). */
export function maxMinRatio(counts: ReadonlyMap<string, number>, ids: readonly string[]): number {
  const values = ids.map((id) => counts.get(id) ?? 0);
  const min = Math.min(...values);
  return min === 0 ? Number.POSITIVE_INFINITY : Math.max(...values) / min;
}
