/**
 * The routing decisions of recent calls (RT-8 `aegis trace`), in a fixed-size ring buffer so
 * memory stays bounded however long the router runs. Entries are stored as recorded (cheap on
 * the hot path) and shaped for the admin API only when read.
 */
import type { InstanceRecord } from '@aegis-ipc/protocol';
import type { AttemptRecord } from './route-outcome.js';

/** One routed call as recorded. */
export interface TraceEntry {
  readonly trace_id: string;
  readonly service_name: string;
  readonly method: string;
  /** ms since epoch. */
  readonly received_at: number;
  readonly strategy: string;
  readonly hops: number;
  readonly path: string;
  readonly considered: readonly InstanceRecord[];
  readonly attempts: readonly AttemptRecord[];
  readonly outcome: 'success' | 'error_reply' | 'fallback' | 'failed';
  readonly instance_id: string | null;
  readonly error_code: string | null;
  readonly duration_ms: number;
}

/** A recorded call as the admin API shows it. */
export interface TraceView extends Omit<TraceEntry, 'considered' | 'received_at' | 'path' | 'attempts'> {
  readonly attempts: AttemptRecord[];
  readonly received_at: string;
  readonly path: string[];
  readonly instances_considered: string[];
}

export class TraceBuffer {
  readonly #size: number;
  readonly #ring: (TraceEntry | undefined)[];
  #next = 0;

  constructor(size: number) {
    this.#size = size;
    this.#ring = new Array<TraceEntry | undefined>(size);
  }

  record(entry: TraceEntry): void {
    this.#ring[this.#next] = entry;
    this.#next = (this.#next + 1) % this.#size;
  }

  /**
   * Every recorded call of `traceId`, oldest first (a trace id may cover several calls: nested
   * calls share it). A scan of the ring: lookups are rare admin reads, while an index by trace id
   * cost a map update and an array per routed call.
   */
  get(traceId: string): TraceView[] {
    const out: TraceView[] = [];
    for (let k = 0; k < this.#size; k++) {
      const entry = this.#ring[(this.#next + k) % this.#size];
      if (entry !== undefined && entry.trace_id === traceId) out.push(view(entry));
    }
    return out;
  }

  /** The `limit` most recent calls, newest first. */
  recent(limit: number): TraceView[] {
    const out: TraceView[] = [];
    for (let k = 1; k <= this.#size && out.length < limit; k++) {
      const entry = this.#ring[(this.#next - k + this.#size) % this.#size];
      if (entry === undefined) break;
      out.push(view(entry));
    }
    return out;
  }
}

function view(e: TraceEntry): TraceView {
  return {
    trace_id: e.trace_id,
    service_name: e.service_name,
    method: e.method,
    received_at: new Date(e.received_at).toISOString(),
    strategy: e.strategy,
    hops: e.hops,
    path: e.path === '' ? [] : e.path.split(','),
    instances_considered: e.considered.map((i) => i.instance_id),
    attempts: [...e.attempts],
    outcome: e.outcome,
    instance_id: e.instance_id,
    error_code: e.error_code,
    duration_ms: e.duration_ms,
  };
}
