/**
 * Records every routed call — metrics (SPEC OBS-1), the trace buffer (RT-8) and a debug log line
 * with the trace id (and the message id of a call sent with one; pino leaves out an undefined key)
 * — after the rest of the pipeline decided its outcome. Info-level lines are
 * only written for failures: a log line per successful call would cost more than the routing.
 */
import type { Logger } from 'pino';
import type { RouterMetrics } from '../metrics/router-metrics.js';
import type { Registry } from '../registry/registry.js';
import type { TraceBuffer } from './trace-buffer.js';
import type { RouteInterceptor, RouteOutcome } from './route-outcome.js';
import type { RouteInput } from './route-input.js';

/** Label used for services the registry does not know, so made-up names cannot explode label cardinality. */
export const UNKNOWN_SERVICE_LABEL = '(unknown)';

interface ServiceChildren {
  readonly duration: { observe(seconds: number): void };
  readonly success: Map<string, { inc(): void }>;
}

export function observeInterceptor(metrics: RouterMetrics, traces: TraceBuffer, registry: Registry, logger: Logger): RouteInterceptor {
  // Bound once per series: the hot series count locally (FoldedCounter, FoldedHistogram); binding
  // serialises labels.
  const children = new Map<string, ServiceChildren>();
  const childrenOf = (service: string): ServiceChildren => {
    let c = children.get(service);
    if (c === undefined) {
      c = { duration: metrics.requestDuration.bind({ service_name: service }), success: new Map() };
      children.set(service, c);
    }
    return c;
  };
  // A retired instance's series are removed with its bound incrementer (RouterMetrics); drop ours
  // too, or a later call under the same id would count into one nobody reads (ADR 0008).
  registry.onEvent((event) => {
    if (event.type === 'instance_removed') children.get(event.service_name)?.success.delete(event.instance_id);
  });

  const record = (input: RouteInput, outcome: RouteOutcome): RouteOutcome => {
    const durationMs = performance.now() - input.receivedAt;
    const service = outcome.considered.length > 0 || registry.service(input.serviceName) !== undefined ? input.serviceName : UNKNOWN_SERVICE_LABEL;
    const c = childrenOf(service);
    c.duration.observe(durationMs / 1000);
    const instance = outcome.instanceId ?? 'none';
    const code = errorCodeOf(outcome);
    if (outcome.kind === 'answered' && outcome.replyErrorCode === undefined) {
      let ok = c.success.get(instance);
      if (ok === undefined) c.success.set(instance, (ok = metrics.requests.bind({ service_name: service, instance_id: instance, status: 'success' })));
      ok.inc();
    } else {
      metrics.requests.inc({ service_name: service, instance_id: instance, status: outcome.kind === 'fallback' ? 'fallback' : 'error' });
      metrics.errors.inc({ service_name: service, error_type: code });
      if (outcome.kind === 'failed') logFailure(logger, input, outcome, code);
    }
    traces.record({
      trace_id: input.traceId,
      service_name: input.serviceName,
      method: input.method,
      received_at: Date.now() - durationMs,
      strategy: outcome.strategy,
      hops: input.hops,
      path: input.path,
      considered: outcome.considered,
      attempts: outcome.attempts,
      outcome: outcome.kind === 'answered' ? (outcome.replyErrorCode === undefined ? 'success' : 'error_reply') : outcome.kind,
      instance_id: outcome.instanceId ?? null,
      error_code: outcome.kind === 'answered' ? (outcome.replyErrorCode ?? null) : outcome.kind === 'failed' ? code : null,
      duration_ms: Math.round(durationMs * 100) / 100,
    });
    if (logger.isLevelEnabled('debug')) {
      logger.debug({ event: 'route_done', trace_id: input.traceId, message_id: input.messageId, service_name: input.serviceName, method: input.method, instance_id: outcome.instanceId, outcome: outcome.kind, attempts: outcome.attempts.length, duration_ms: durationMs }, 'routed');
    }
    return outcome;
  };

  // Not an async function: one `then` per call instead of an async frame plus an await (ADR 0031
  // round 4). `next` never throws synchronously (every stage returns a promise).
  return (input, next) => next(input).then((outcome) => record(input, outcome));
}

function errorCodeOf(outcome: RouteOutcome): string {
  if (outcome.kind === 'answered') return outcome.replyErrorCode ?? '';
  if (outcome.kind === 'fallback') return 'ROUTE_CIRCUIT_OPEN';
  return outcome.replyErrorCode ?? outcome.error?.code ?? 'INTERNAL';
}

function logFailure(logger: Logger, input: RouteInput, outcome: RouteOutcome, code: string): void {
  // Refusals can come at request rate (a client hammering a dead service): debug, not info.
  const level = code === 'ROUTE_NO_INSTANCE' || code === 'ROUTE_CIRCUIT_OPEN' ? 'debug' : 'warn';
  // …and at that rate nothing is built for a line the level drops.
  if (!logger.isLevelEnabled(level)) return;
  logger[level](
    { event: 'route_failed', trace_id: input.traceId, message_id: input.messageId, service_name: input.serviceName, method: input.method, error_type: code, attempts: outcome.attempts, hops: input.hops },
    outcome.error?.message ?? code,
  );
}
