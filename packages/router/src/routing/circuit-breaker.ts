/**
 * The circuit breaker of one service (RT-5), as a pure state machine: time is passed in, so
 * tests drive it without timers.
 *
 * - `closed`: calls pass. Instances that failed (timeout or transport failure) since the last
 *   success are remembered; when *every* healthy instance is in that set, the breaker opens.
 * - `open`: calls are refused (the fallback, or `ROUTE_CIRCUIT_OPEN`) for `openMs`.
 * - `half_open`: one probe call passes; the others are refused. The probe's success closes the
 *   breaker, its failure opens it again for another `openMs`.
 *
 * An instance that answers — even with an application error — is alive: that counts as success.
 */

export const BREAKER_STATES = { closed: 'closed', open: 'open', halfOpen: 'half_open' } as const;
export type BreakerState = (typeof BREAKER_STATES)[keyof typeof BREAKER_STATES];

/** What the breaker says about one call: go, go as the half-open probe, or refuse. */
export type BreakerPermit = 'pass' | 'probe' | 'reject';

/** Gauge value of each state (`ipc_router_circuit_breaker_state`). */
export const BREAKER_GAUGE: Readonly<Record<BreakerState, number>> = { closed: 0, open: 1, half_open: 2 };

export interface BreakerSnapshot {
  readonly service_name: string;
  readonly state: BreakerState;
  readonly opened_at: string | null;
  readonly retry_after_ms: number;
  readonly failed_instances: string[];
  readonly times_opened: number;
}

export class CircuitBreaker {
  readonly serviceName: string;
  readonly #openMs: number;
  readonly #onChange: (state: BreakerState) => void;
  #state: BreakerState = 'closed';
  #openedAt = 0;
  #probing = false;
  #timesOpened = 0;
  readonly #failed = new Set<string>();

  constructor(serviceName: string, openMs: number, onChange: (state: BreakerState) => void = () => {}) {
    this.serviceName = serviceName;
    this.#openMs = openMs;
    this.#onChange = onChange;
  }

  /** The state at `now` (an open breaker whose time is up reads as half-open). */
  state(now: number): BreakerState {
    if (this.#state === 'open' && now - this.#openedAt >= this.#openMs) this.#set('half_open');
    return this.#state;
  }

  /** Asks to send one call. A `probe` permit must be settled with `succeeded`, `failed` or `released`. */
  acquire(now: number): BreakerPermit {
    const state = this.state(now);
    if (state === 'closed') return 'pass';
    if (state === 'open' || this.#probing) return 'reject';
    this.#probing = true;
    return 'probe';
  }

  /** Milliseconds until a probe is allowed (0 when not open). */
  retryAfterMs(now: number): number {
    return this.state(now) === 'open' ? Math.max(0, this.#openedAt + this.#openMs - now) : 0;
  }

  /** An instance answered. */
  succeeded(): void {
    this.#failed.clear();
    this.#probing = false;
    if (this.#state !== 'closed') this.#set('closed');
  }

  /**
   * One attempt on `instanceId` timed out or found no responder. Opens the breaker when every id
   * in `healthy` has failed since the last success.
   */
  instanceFailed(instanceId: string, healthy: readonly { readonly instance_id: string }[], now: number): void {
    this.#failed.add(instanceId);
    if (this.#state !== 'closed') return;
    if (healthy.length > 0 && healthy.every((i) => this.#failed.has(i.instance_id))) this.#open(now);
  }

  /** A call ended with every attempt failed: a failed probe reopens the breaker. */
  callFailed(permit: BreakerPermit, now: number): void {
    if (permit === 'probe') {
      this.#probing = false;
      this.#open(now);
    }
  }

  /** A probe ended without telling anything (no instance to try, a bad request): allow another. */
  released(permit: BreakerPermit): void {
    if (permit === 'probe') this.#probing = false;
  }

  snapshot(now: number): BreakerSnapshot {
    const state = this.state(now);
    return {
      service_name: this.serviceName,
      state,
      opened_at: this.#timesOpened === 0 ? null : new Date(this.#openedAt).toISOString(),
      retry_after_ms: this.retryAfterMs(now),
      failed_instances: [...this.#failed].sort(),
      times_opened: this.#timesOpened,
    };
  }

  #open(now: number): void {
    this.#openedAt = now;
    this.#timesOpened++;
    this.#failed.clear();
    this.#set('open');
  }

  #set(state: BreakerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#onChange(state);
  }
}
