/**
 * The circuit breakers of all services, created on a service's first failed attempt (so hostile
 * requests for made-up services cannot grow the map), with the `ipc_router_circuit_breaker_state`
 * gauge kept in step.
 */
import type { Gauge } from 'prom-client';
import { BREAKER_GAUGE, CircuitBreaker, type BreakerSnapshot, type BreakerState } from './circuit-breaker.js';

export class ServiceBreakers {
  readonly #openMs: number;
  readonly #gauge: Gauge<'service_name'> | undefined;
  readonly #onChange: (serviceName: string, state: BreakerState) => void;
  readonly #breakers = new Map<string, CircuitBreaker>();

  constructor(openMs: number, gauge?: Gauge<'service_name'>, onChange: (serviceName: string, state: BreakerState) => void = () => {}) {
    this.#openMs = openMs;
    this.#gauge = gauge;
    this.#onChange = onChange;
  }

  /** The breaker of `serviceName`, if it has one (a service without failures has none: closed). */
  peek(serviceName: string): CircuitBreaker | undefined {
    return this.#breakers.get(serviceName);
  }

  /** The breaker of `serviceName`, created closed on first use. */
  get(serviceName: string): CircuitBreaker {
    let breaker = this.#breakers.get(serviceName);
    if (breaker === undefined) {
      breaker = new CircuitBreaker(serviceName, this.#openMs, (state) => {
        this.#gauge?.set({ service_name: serviceName }, BREAKER_GAUGE[state]);
        this.#onChange(serviceName, state);
      });
      this.#gauge?.set({ service_name: serviceName }, BREAKER_GAUGE.closed);
      this.#breakers.set(serviceName, breaker);
    }
    return breaker;
  }

  snapshots(now: number): BreakerSnapshot[] {
    return [...this.#breakers.values()].map((b) => b.snapshot(now)).sort((a, b) => a.service_name.localeCompare(b.service_name));
  }
}
