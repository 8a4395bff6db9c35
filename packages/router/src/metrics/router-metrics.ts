/**
 * The router's Prometheus metrics (SPEC OBS-1), on a registry owned by the router instance so
 * several routers in one process (tests) do not collide. Counter families follow the
 * OpenMetrics convention: the SPEC's family name plus `_total` on the sample
 * (`ipc_router_loadbalancer_selections` → `ipc_router_loadbalancer_selections_total`).
 */
import { Counter, Gauge, Registry as PromRegistry, collectDefaultMetrics } from 'prom-client';
import { FoldedCounter, FoldedHistogram } from '@aegis-ipc/sdk';
import type { Registry } from '../registry/registry.js';

/** The `status` values of `ipc_router_requests_total` (see the observe interceptor). */
export const REQUEST_STATUSES = ['success', 'error', 'fallback'] as const;

export class RouterMetrics {
  readonly registry = new PromRegistry();

  // Counted on every routed call: bound increments are folded in when collected.
  readonly requests = new FoldedCounter({
    name: 'ipc_router_requests_total',
    help: 'Routed requests by service, chosen instance and outcome status.',
    labelNames: ['service_name', 'instance_id', 'status'] as const,
    registers: [this.registry],
  });

  // Observed on every routed call through a bound observer, folded in when collected.
  readonly requestDuration = new FoldedHistogram({
    name: 'ipc_router_request_duration_seconds',
    help: 'End-to-end duration of routed requests as seen by the router.',
    labelNames: ['service_name'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
    registers: [this.registry],
  });

  readonly selections = new FoldedCounter({
    name: 'ipc_router_loadbalancer_selections_total',
    help: 'Instances chosen by the load balancer.',
    labelNames: ['service_name', 'instance_id'] as const,
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'ipc_router_errors_total',
    help: 'Routing errors by service and error code.',
    labelNames: ['service_name', 'error_type'] as const,
    registers: [this.registry],
  });

  readonly retries = new Counter({
    name: 'ipc_router_retries_total',
    help: 'Failovers to another instance after a timeout or transport failure.',
    labelNames: ['service_name'] as const,
    registers: [this.registry],
  });

  readonly breakerState = new Gauge({
    name: 'ipc_router_circuit_breaker_state',
    help: 'Circuit breaker state per service: 0 closed, 1 open, 2 half-open.',
    labelNames: ['service_name'] as const,
    registers: [this.registry],
  });

  readonly healthcheckFailures = new Counter({
    name: 'ipc_healthcheck_failures_total',
    help: 'Instances found unhealthy (missed heartbeats, failed manual checks, repeated timeouts).',
    labelNames: ['service_name', 'reason'] as const,
    registers: [this.registry],
  });

  readonly stateTransitions = new Counter({
    name: 'ipc_instance_state_transitions_total',
    help: 'Instance status transitions seen by this router.',
    labelNames: ['service_name', 'from', 'to'] as const,
    registers: [this.registry],
  });

  // No service label: a park can fail before the request (and so its service) was read.
  readonly stalledParksAbandoned = new Counter({
    name: 'ipc_router_stalled_parks_abandoned_total',
    help: 'Reliable requests past max_deliver the MAX_DELIVERIES watcher could not park after every try: left PENDING in the request stream, their callers waiting out their own timeout (ADR 0051).',
    registers: [this.registry],
  });

  constructor(view: Registry) {
    new Gauge({
      name: 'ipc_router_active_instances',
      help: 'ONLINE instances per service.',
      labelNames: ['service_name'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        // Services whose last instance was retired stay at 0, so the "all instances down" alert
        // keeps firing for them (ADR 0008).
        for (const name of view.serviceNamesSeen()) this.set({ service_name: name }, view.service(name)?.counts.ONLINE ?? 0);
      },
    });
    new Gauge({
      name: 'ipc_router_unhealthy_instances',
      help: 'UNHEALTHY instances per service.',
      labelNames: ['service_name'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const name of view.serviceNamesSeen()) this.set({ service_name: name }, view.service(name)?.counts.UNHEALTHY ?? 0);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'ipc_router_process_' });
    // prom-client names these gauges `*_total`, which Prometheus reserves for counters
    // (promtool check metrics rejects them); the same counts stay available without the suffix
    // in nodejs_active_handles/requests/resources.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(`ipc_router_process_${name}`);
    }
    view.onEvent((event) => {
      if (event.type === 'instance_removed') {
        this.#forgetInstance(event.service_name, event.instance_id);
        return;
      }
      if (event.type !== 'instance_status_changed') return;
      this.stateTransitions.inc({ service_name: event.service_name, from: event.from, to: event.to });
      if (event.to === 'UNHEALTHY') this.healthcheckFailures.inc({ service_name: event.service_name, reason: event.reason.startsWith('no heartbeat') ? 'heartbeat_timeout' : 'other' });
    });
  }

  /**
   * Drops the series labelled with a retired instance (ADR 0008): with pod churn every deploy
   * brings new instance ids, and their label sets would otherwise stay for the router's life.
   * Every metric with an `instance_id` label is listed here.
   */
  #forgetInstance(serviceName: string, instanceId: string): void {
    for (const status of REQUEST_STATUSES) this.requests.remove({ service_name: serviceName, instance_id: instanceId, status });
    this.selections.remove({ service_name: serviceName, instance_id: instanceId });
  }
}
