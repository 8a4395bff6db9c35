/**
 * OpenTelemetry spans of the event bus (ADR 0004, ADR 0024): `ipc.event.publish` (PRODUCER)
 * around a publish, whose context travels as `traceparent`/`tracestate` headers, and one
 * `ipc.event.process` (CONSUMER) per delivery, a child of the publisher's context — ours or an
 * external publisher's such as the outbox relay. With no tracer provider registered nothing here
 * allocates a span or adds a header: each entry checks {@link tracingActive} first.
 */
import { SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import { toAegisError } from '@aegis-ipc/protocol';
import { extractTraceContextFrom, injectTraceContextInto } from '../tracing/nats-carrier.js';
import { tracer } from '../tracing/tracer.js';
import { tracingActive } from '../tracing/tracing-active.js';
import type { DeliveryInterceptor, Outcome } from './delivery.js';
import type { Qos, TransportName } from './types.js';

/** Span names. */
export const EVENT_SPANS = { publish: 'ipc.event.publish', process: 'ipc.event.process' } as const;

/** What a delivery span reports as `ipc.event.outcome`. */
export type DeliveryOutcomeName = 'acked' | 'duplicate' | 'redelivered' | 'dead-lettered' | 'dropped';

/** The outcome attribute of a delivery's final pipeline outcome. */
export function outcomeName(outcome: Outcome): DeliveryOutcomeName {
  switch (outcome.type) {
    case 'ack':
      return outcome.duplicate === true ? 'duplicate' : 'acked';
    case 'dead-letter':
      return 'dead-lettered';
    case 'retry':
    case 'busy':
      return 'redelivered';
    case 'fail':
      return 'dropped'; // QoS 0 only: the retry policy turns QoS 1/2 failures into retry/dead-letter
  }
}

/**
 * Runs `publish` inside an `ipc.event.publish` span, handing it the trace headers to send. Callers
 * check {@link tracingActive} first (so the untraced path allocates no closure either); when it
 * is off anyway, this calls `publish(undefined)` and creates nothing.
 */
export function tracedPublish<T extends { readonly messageId: string }>(
  attrs: { transport: TransportName; topic: string; qos: Qos },
  publish: (traceHeaders: Record<string, string> | undefined) => Promise<T>,
): Promise<T> {
  if (!tracingActive()) return publish(undefined);
  return tracer().startActiveSpan(
    EVENT_SPANS.publish,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': attrs.transport,
        'messaging.operation.type': 'send',
        'messaging.destination.name': attrs.topic,
        'ipc.event.qos': attrs.qos,
      },
    },
    async (span) => {
      try {
        const result = await publish(injectTraceContextInto({}, trace.setSpan(context.active(), span)));
        // Set after the publish: a QoS 1 event's id may be the broker position it was stored at.
        span.setAttribute('messaging.message.id', result.messageId);
        return result;
      } catch (err) {
        failSpan(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * The outermost delivery interceptor: one CONSUMER span per delivery, child of the context in the
 * message's trace headers, with topic, group, message id, delivery count and outcome. The handler
 * runs inside it, so its own spans join the trace. A pass-through when tracing is off.
 */
export function tracingInterceptor(): DeliveryInterceptor {
  return (delivery, next) => {
    if (!tracingActive()) return next(delivery);
    const parent = extractTraceContextFrom(delivery.trace);
    return tracer().startActiveSpan(
      EVENT_SPANS.process,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': delivery.transport,
          'messaging.operation.type': 'process',
          'messaging.destination.name': delivery.topic,
          'messaging.consumer.group.name': delivery.group,
          'messaging.message.id': delivery.messageId,
          'ipc.event.qos': delivery.qos,
          'ipc.event.delivery_count': delivery.deliveryCount,
        },
      },
      parent,
      async (span) => {
        try {
          const outcome = await next(delivery);
          span.setAttribute('ipc.event.outcome', outcomeName(outcome));
          if (outcome.type === 'retry' || outcome.type === 'dead-letter' || outcome.type === 'fail') {
            span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error });
          }
          return outcome;
        } catch (err) {
          failSpan(span, err);
          throw err;
        } finally {
          span.end();
        }
      },
    );
  };
}

function failSpan(span: Span, err: unknown): void {
  const e = toAegisError(err);
  span.setAttribute('error.type', e.code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
}
