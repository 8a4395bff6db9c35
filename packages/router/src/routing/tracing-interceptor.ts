/**
 * The `ipc.router.route_request` span (SPEC OBS-2): one per routed call, child of the caller's
 * `traceparent`, with the service, chosen instance, algorithm, attempts, instance count and
 * error type; each attempt is a span event. The call is forwarded with this span as parent, so
 * the instance's span nests under it. With no tracer provider registered the interceptor only
 * passes the call on.
 */
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { tracer, tracingActive } from '@aegis-ipc/sdk';
import type { RouteInterceptor } from './route-outcome.js';

export function tracingInterceptor(): RouteInterceptor {
  return async (input, next) => {
    if (!tracingActive()) return next(input);
    const parent = input.traceparent === undefined ? context.active() : propagation.extract(context.active(), { traceparent: input.traceparent });
    const span = tracer().startSpan(
      'ipc.router.route_request',
      { kind: SpanKind.SERVER, attributes: { 'ipc.service_name': input.serviceName, 'ipc.method': input.method, 'ipc.trace_id': input.traceId, 'ipc.hops': input.hops } },
      parent,
    );
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(parent, span), carrier);
    try {
      const outcome = await next({ ...input, traceparent: carrier.traceparent ?? input.traceparent });
      span.setAttributes({
        'ipc.routing.algorithm': outcome.strategy,
        'ipc.routing.instance_count': outcome.considered.length,
        'ipc.routing.attempts': outcome.attempts.length,
        'ipc.routing.outcome': outcome.kind,
      });
      if (outcome.instanceId !== undefined) span.setAttribute('ipc.instance_id', outcome.instanceId);
      for (const a of outcome.attempts) {
        span.addEvent('attempt', { 'ipc.attempt': a.attempt, 'ipc.instance_id': a.instance_id, 'ipc.attempt.outcome': a.outcome, 'ipc.attempt.duration_ms': a.duration_ms, ...(a.error_type === undefined ? {} : { 'error.type': a.error_type }) });
      }
      const errorType = outcome.kind === 'failed' ? (outcome.error?.code ?? 'INTERNAL') : outcome.replyErrorCode;
      if (errorType !== undefined) {
        span.setAttribute('error.type', errorType);
        span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error?.message ?? errorType });
      }
      return outcome;
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  };
}
