/**
 * `ipc.outbox.relay_publish` (SPEC OBS-2, "outbox rows → relay → consumer"): one PRODUCER span
 * per published row, child of the trace context stored with the row at write time, and the row
 * is published with THIS span's `traceparent`, so a consumer extracting the header continues the
 * same trace under the relay's span. With no tracer provider registered it only calls `next`:
 * no span, no copy of the row (ADR 0004).
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, trace } from '@opentelemetry/api';
import type { OutboxRecord } from '../types.js';
import { tracer, tracingActive } from '@aegis-ipc/sdk';

export const RELAY_PUBLISH_SPAN = 'ipc.outbox.relay_publish';

/** Publishes `row` through `next` inside its relay span (when tracing is on). */
export async function publishInSpan(row: OutboxRecord, sinkName: string, next: (row: OutboxRecord) => Promise<void>): Promise<void> {
  if (!tracingActive()) return next(row);
  // The stored context is the parent, not whatever happens to be active in the relay's loop.
  const parent = propagation.extract(ROOT_CONTEXT, row.headers);
  const span = tracer().startSpan(
    RELAY_PUBLISH_SPAN,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': sinkName,
        'messaging.operation.type': 'publish',
        'messaging.message.id': row.eventId,
        'ipc.outbox.row_id': row.id,
        'ipc.outbox.event_id': row.eventId,
        'ipc.outbox.event_type': row.payload.event_type,
        'ipc.outbox.aggregate_id': row.key,
        'ipc.outbox.topic': row.topic,
        'ipc.outbox.attempt': row.attempts + 1,
      },
    },
    parent,
  );
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(parent, span), carrier);
  try {
    await next(carrier.traceparent === undefined ? row : { ...row, headers: { ...row.headers, ...carrier } });
  } catch (err) {
    span.setAttribute('error.type', err instanceof Error ? err.name : 'Error');
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}
