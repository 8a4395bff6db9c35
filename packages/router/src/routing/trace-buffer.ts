/**
 * The routing decisions of recent calls (RT-8 `aegis trace`), in a fixed-size ring buffer so
 * memory stays bounded however long the router runs. Entries are shaped for the admin API only
 * when read.
 *
 * The ring keeps one mutable slot per position and copies each recorded call into it, the trace
 * id as bytes and a single attempt field by field, instead of keeping the recorded objects.
 * Keeping them meant every call left an entry, its attempts array, an attempt record and its
 * trace id string alive for the next `size` calls: each young-generation GC copied all of them,
 * which profiled as ~2.5 µs of GC per routed call at the default 10,000 entries, a fifth of the
 * router's CPU per call (ADR 0031 round 4). Now a call leaves nothing young alive behind it, except
 * the attempts array of a call with several attempts (failover: rare, and worth keeping whole).
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

/** Trace ids are 1…64 characters of `[A-Za-z0-9_-]` (route input validation). */
const MAX_TRACE_ID_BYTES = 64;
const NO_ATTEMPTS: readonly AttemptRecord[] = Object.freeze([]);

/** One position of the ring, overwritten in place. Numbers start as doubles so V8 updates them in place. */
class Slot {
  readonly traceIdBytes = new Uint8Array(MAX_TRACE_ID_BYTES);
  traceIdLength = 0;
  /** Set only for a trace id the bytes cannot hold (not expected: route input validates ids). */
  traceIdString: string | undefined = undefined;
  service_name = '';
  method = '';
  received_at = 0.5;
  strategy = '';
  hops = 0;
  path = '';
  considered: readonly InstanceRecord[] = [];
  /** All attempts when there were several; `undefined` when the single one is inline below. */
  attempts: readonly AttemptRecord[] | undefined = NO_ATTEMPTS;
  attempt = 0;
  attemptInstanceId = '';
  attemptOutcome: AttemptRecord['outcome'] = 'answered';
  attemptErrorType: string | undefined = undefined;
  attemptDurationMs = 0.5;
  attemptTimeoutMs = 0.5;
  outcome: TraceEntry['outcome'] = 'success';
  instance_id: string | null = null;
  error_code: string | null = null;
  duration_ms = 0.5;

  write(e: TraceEntry): void {
    const id = e.trace_id;
    this.traceIdString = undefined;
    if (id.length <= MAX_TRACE_ID_BYTES) {
      for (let i = 0; i < id.length; i++) {
        const c = id.charCodeAt(i);
        if (c > 0x7f) {
          this.traceIdString = id;
          break;
        }
        this.traceIdBytes[i] = c;
      }
      this.traceIdLength = id.length;
    } else {
      this.traceIdString = id;
    }
    this.service_name = e.service_name;
    this.method = e.method;
    this.received_at = e.received_at;
    this.strategy = e.strategy;
    this.hops = e.hops;
    this.path = e.path;
    this.considered = e.considered;
    const only = e.attempts.length === 1 ? e.attempts[0] : undefined;
    if (only === undefined) {
      this.attempts = e.attempts.length === 0 ? NO_ATTEMPTS : e.attempts;
    } else {
      this.attempts = undefined;
      this.attempt = only.attempt;
      this.attemptInstanceId = only.instance_id;
      this.attemptOutcome = only.outcome;
      this.attemptErrorType = only.error_type;
      this.attemptDurationMs = only.duration_ms;
      this.attemptTimeoutMs = only.timeout_ms;
    }
    this.outcome = e.outcome;
    this.instance_id = e.instance_id;
    this.error_code = e.error_code;
    this.duration_ms = e.duration_ms;
  }

  traceIdIs(id: string): boolean {
    if (this.traceIdString !== undefined) return this.traceIdString === id;
    if (id.length !== this.traceIdLength) return false;
    for (let i = 0; i < id.length; i++) if (id.charCodeAt(i) !== this.traceIdBytes[i]) return false;
    return true;
  }

  view(): TraceView {
    return {
      trace_id: this.traceIdString ?? String.fromCharCode(...this.traceIdBytes.subarray(0, this.traceIdLength)),
      service_name: this.service_name,
      method: this.method,
      received_at: new Date(this.received_at).toISOString(),
      strategy: this.strategy,
      hops: this.hops,
      path: this.path === '' ? [] : this.path.split(','),
      instances_considered: this.considered.map((i) => i.instance_id),
      attempts: this.attempts === undefined ? [this.#inlineAttempt()] : [...this.attempts],
      outcome: this.outcome,
      instance_id: this.instance_id,
      error_code: this.error_code,
      duration_ms: this.duration_ms,
    };
  }

  /** The single attempt, in the shape it was recorded (no `error_type` key when it had none). */
  #inlineAttempt(): AttemptRecord {
    const base = { attempt: this.attempt, instance_id: this.attemptInstanceId, outcome: this.attemptOutcome };
    return this.attemptErrorType === undefined
      ? { ...base, duration_ms: this.attemptDurationMs, timeout_ms: this.attemptTimeoutMs }
      : { ...base, error_type: this.attemptErrorType, duration_ms: this.attemptDurationMs, timeout_ms: this.attemptTimeoutMs };
  }
}

export class TraceBuffer {
  readonly #size: number;
  /** Slots are created on first use, so a large configured size costs memory only when filled. */
  readonly #ring: (Slot | undefined)[];
  #next = 0;

  constructor(size: number) {
    this.#size = size;
    this.#ring = new Array<Slot | undefined>(size);
  }

  /** Copies `entry` into the ring (the object itself is not kept). */
  record(entry: TraceEntry): void {
    let slot = this.#ring[this.#next];
    if (slot === undefined) this.#ring[this.#next] = slot = new Slot();
    slot.write(entry);
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
      const slot = this.#ring[(this.#next + k) % this.#size];
      if (slot !== undefined && slot.traceIdIs(traceId)) out.push(slot.view());
    }
    return out;
  }

  /**
   * The `limit` newest recorded calls of `traceId`, oldest first, and whether older ones were left
   * out (the bound of a trace lookup answer, `TRACE_LOOKUP_MAX_ROUTES`).
   */
  find(traceId: string, limit: number): { routes: TraceView[]; truncated: boolean } {
    const routes: TraceView[] = [];
    for (let k = 1; k <= this.#size; k++) {
      const slot = this.#ring[(this.#next - k + this.#size) % this.#size];
      if (slot === undefined) break;
      if (!slot.traceIdIs(traceId)) continue;
      if (routes.length === limit) return { routes: routes.reverse(), truncated: true };
      routes.push(slot.view());
    }
    return { routes: routes.reverse(), truncated: false };
  }

  /** The `limit` most recent calls, newest first. */
  recent(limit: number): TraceView[] {
    const out: TraceView[] = [];
    for (let k = 1; k <= this.#size && out.length < limit; k++) {
      const slot = this.#ring[(this.#next - k + this.#size) % this.#size];
      if (slot === undefined) break;
      out.push(slot.view());
    }
    return out;
  }
}
