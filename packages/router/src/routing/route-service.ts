/**
 * Serves `ipc.route.request` for this router replica (queue group `ipc-router`, so replicas
 * share the calls): reads each call, runs the routing pipeline
 * ([tracing →] observe → breaker → executor) and answers the caller with the instance's bytes, the
 * fallback, or a typed error.
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { AegisError, HEADERS, QUEUE_GROUPS, SUBJECTS, encode, errorReply, withTraceId } from '@aegis-ipc/protocol';
import { guardedCallback, tracingActive } from '@aegis-ipc/sdk';
import type { Logger } from 'pino';
import type { RouterMetrics } from '../metrics/router-metrics.js';
import type { Registry } from '../registry/registry.js';
import type { HealthMonitor } from '../health/health-monitor.js';
import { ReplyMux } from '@aegis-ipc/sdk';
import { readRouteInput, type RouteInput } from './route-input.js';
import { createRouteExecutor } from './route-executor.js';
import { InstanceFailures } from './instance-failures.js';
import { ServiceBreakers } from './service-breakers.js';
import { breakerInterceptor } from './breaker-interceptor.js';
import { observeInterceptor } from './observe-interceptor.js';
import { tracingInterceptor } from './tracing-interceptor.js';
import { TraceBuffer } from './trace-buffer.js';
import { composeRoute, type RouteHandler, type RouteOutcome } from './route-outcome.js';
import { strategyByName } from './strategies/index.js';
import type { BreakerSnapshot } from './circuit-breaker.js';

/** The routing settings (see `ROUTER_SETTINGS`). */
export interface RouteServiceOptions {
  readonly routeStrategy: string;
  readonly routeAttemptTimeoutMs: number;
  readonly routeTotalTimeoutMs: number;
  readonly routeMaxAttempts: number;
  readonly routeMaxHops: number;
  readonly instanceTimeoutsUnhealthy: number;
  readonly breakerOpenMs: number;
  readonly fallbacks: Readonly<Record<string, unknown>>;
  readonly traceBufferSize: number;
}

/** Selections per service and instance since start (`GET …/routing/distribution`). */
export type Distribution = Record<string, Record<string, number>>;

export class RouteService {
  readonly #nc: NatsConnection;
  readonly #logger: Logger;
  readonly #metrics: RouterMetrics;
  readonly #mux: ReplyMux;
  readonly #pipeline: RouteHandler;
  readonly #tracedPipeline: RouteHandler;
  readonly #failures: InstanceFailures;
  readonly #breakers: ServiceBreakers;
  /** Selections per service and instance, with the metric's bound incrementer. */
  readonly #selections = new Map<string, Map<string, { n: number; readonly child: { inc(): void } }>>();
  readonly traces: TraceBuffer;
  readonly strategy: string;
  #sub: Subscription | undefined;
  #inFlight = 0;

  constructor(nc: NatsConnection, registry: Registry, health: HealthMonitor, metrics: RouterMetrics, options: RouteServiceOptions, logger: Logger) {
    this.#nc = nc;
    this.#logger = logger;
    this.#metrics = metrics;
    this.#mux = new ReplyMux(nc);
    this.traces = new TraceBuffer(options.traceBufferSize);
    const strategy = strategyByName(options.routeStrategy);
    this.strategy = strategy.name;
    this.#failures = new InstanceFailures({
      threshold: options.instanceTimeoutsUnhealthy,
      quarantineMs: options.breakerOpenMs,
      onUnhealthy: (instanceId, reason) => {
        logger.warn({ event: 'instance_quarantined', instance_id: instanceId, reason, quarantine_ms: options.breakerOpenMs }, `instance ${instanceId} marked UNHEALTHY: ${reason}`);
        health.markUnhealthy(instanceId, reason);
      },
    });
    // A restarted process re-registers under its id with a new session: its predecessor's
    // timeouts say nothing about it, so it rejoins rotation at once. The map also stays bounded
    // by the live instances.
    registry.onEvent((event) => {
      if (event.type === 'instance_registered' || event.type === 'instance_removed') this.#failures.forget(event.instance_id);
      if (event.type === 'instance_removed') this.#forgetSelections(event.service_name, event.instance_id);
    });
    this.#breakers = new ServiceBreakers(options.breakerOpenMs, metrics.breakerState, (service, state) => {
      logger.warn({ event: 'circuit_breaker_changed', service_name: service, state }, `circuit breaker of ${service} is ${state}`);
    });
    const executor = createRouteExecutor({
      registry,
      strategy,
      mux: this.#mux,
      failures: this.#failures,
      logger,
      maxAttempts: options.routeMaxAttempts,
      attemptTimeoutMs: options.routeAttemptTimeoutMs,
      totalTimeoutMs: options.routeTotalTimeoutMs,
      maxHops: options.routeMaxHops,
      onSelected: (service, instanceId) => this.#selected(service, instanceId),
      onRetry: (service) => metrics.retries.inc({ service_name: service }),
    });
    this.#pipeline = composeRoute(
      [observeInterceptor(metrics, this.traces, registry, logger), breakerInterceptor({ breakers: this.#breakers, fallbacks: options.fallbacks, strategy: strategy.name })],
      executor,
    );
    // A separate entry rather than a pass-through stage: with tracing off (the default) a call
    // pays no extra async layer for it.
    this.#tracedPipeline = composeRoute([tracingInterceptor()], this.#pipeline);
  }

  start(): void {
    if (this.#sub !== undefined) return;
    this.#mux.start();
    this.#sub = this.#nc.subscribe(SUBJECTS.routeRequest, {
      queue: QUEUE_GROUPS.router,
      callback: guardedCallback(
        (err, msg) => {
          if (err === null) this.#onRequest(msg);
        },
        (err) => this.#logger.error({ err }, 'a subscription callback threw; that message was dropped'),
      ),
    });
  }

  /** Calls being routed right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Replies that arrived after their attempt had timed out (dropped, never delivered). */
  get lateReplies(): number {
    return this.#mux.lateReplies;
  }

  breakers(): BreakerSnapshot[] {
    return this.#breakers.snapshots(Date.now());
  }

  quarantined(): Array<{ instance_id: string; until: string }> {
    return this.#failures.quarantined();
  }

  distribution(): Distribution {
    const out: Distribution = {};
    for (const [service, counts] of this.#selections) out[service] = Object.fromEntries([...counts].map(([id, c]) => [id, c.n]));
    return out;
  }

  /**
   * Stops taking calls. Calls in flight get up to `graceMs` to finish; those still waiting then
   * fail with `CLOSED`.
   */
  async close(graceMs = 2_000): Promise<void> {
    if (this.#sub === undefined) return;
    this.#sub.unsubscribe();
    this.#sub = undefined;
    const deadline = Date.now() + graceMs;
    while (this.#inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    this.#mux.close();
  }

  #onRequest(msg: Msg): void {
    const receivedAt = performance.now();
    if (!msg.reply) return; // nobody waits for an answer: routing it would run a call for no one
    let input;
    try {
      input = readRouteInput(msg, this.#nc.info?.max_payload ?? 1024 * 1024, receivedAt);
      this.#assertForwardable(msg.data.length, input.traceId);
    } catch (err) {
      // readRouteInput's errors carry the trace id (the request's, or one made for the error)
      const e = withTraceId(err, msg.headers?.get(HEADERS.traceId));
      this.#metrics.errors.inc({ service_name: '(invalid)', error_type: e.code });
      if (this.#logger.isLevelEnabled('debug')) {
        const details = e.details as { trace_id?: string } | undefined;
        this.#logger.debug({ event: 'route_rejected', trace_id: details?.trace_id, error_type: e.code, err: e.message }, 'routed request rejected');
      }
      this.#reply(msg, encode(errorReply(e)));
      return;
    }
    this.#inFlight++;
    // Interceptors are plain functions returning promises (ADR 0031 round 4): a synchronous throw
    // from one is answered like a rejection, never lost with the message.
    let routed: Promise<RouteOutcome>;
    try {
      routed = (tracingActive() ? this.#tracedPipeline : this.#pipeline)(input);
    } catch (err) {
      routed = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    // One settle step per call (no .finally/.catch chain): this is the router's hot path.
    routed.then(
      (outcome) => this.#answer(msg, input, outcome),
      (err: unknown) => this.#answer(msg, input, undefined, err),
    );
  }

  /** Replies with `outcome` (or the error the pipeline threw); never throws. */
  #answer(msg: Msg, input: RouteInput, outcome: RouteOutcome | undefined, crash?: unknown): void {
    this.#inFlight--;
    try {
      if (outcome === undefined) {
        this.#logger.error({ event: 'route_crashed', trace_id: input.traceId, message_id: input.messageId, service_name: input.serviceName, err: crash }, 'routing failed unexpectedly');
        this.#reply(msg, encode(errorReply(withTraceId(crash, input.traceId))));
      } else if (outcome.kind === 'failed') this.#reply(msg, encode(errorReply(withTraceId(outcome.error, input.traceId))));
      else if (outcome.kind === 'fallback') this.#reply(msg, outcome.data as Uint8Array, true);
      else this.#reply(msg, outcome.data as Uint8Array);
    } catch (err) {
      this.#logger.error({ event: 'route_reply_failed', err, trace_id: input.traceId, message_id: input.messageId, service_name: input.serviceName, method: input.method }, 'could not answer a routed call');
    }
  }

  /**
   * The forwarded message carries the caller's body plus routing headers: refuse bodies that
   * would push it over the server's max_payload (the server would drop this router's connection).
   * @throws AegisError `PAYLOAD_TOO_LARGE`
   */
  #assertForwardable(size: number, traceId: string): void {
    const limit = (this.#nc.info?.max_payload ?? 1024 * 1024) - 2048;
    if (size > limit) throw new AegisError('PAYLOAD_TOO_LARGE', `routed request of ${size} bytes leaves no room for routing headers (limit ${limit})`, { details: { size, limit, trace_id: traceId } });
  }

  #reply(msg: Msg, data: Uint8Array, fallback = false): void {
    if (this.#nc.isClosed()) return;
    if (fallback) {
      const h = natsHeaders();
      h.set(HEADERS.fallback, '1');
      msg.respond(data, { headers: h });
    } else {
      msg.respond(data);
    }
  }

  /** A retired instance leaves the distribution view (its metric series go in RouterMetrics, ADR 0008). */
  #forgetSelections(service: string, instanceId: string): void {
    const counts = this.#selections.get(service);
    if (counts === undefined) return;
    counts.delete(instanceId);
    if (counts.size === 0) this.#selections.delete(service);
  }

  #selected(service: string, instanceId: string): void {
    let counts = this.#selections.get(service);
    if (counts === undefined) this.#selections.set(service, (counts = new Map<string, { n: number; readonly child: { inc(): void } }>()));
    let entry = counts.get(instanceId);
    if (entry === undefined) counts.set(instanceId, (entry = { n: 0, child: this.#metrics.selections.bind({ service_name: service, instance_id: instanceId }) }));
    entry.n++;
    entry.child.inc();
  }
}
