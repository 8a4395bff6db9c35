/**
 * `ipc.outbox.write`: with a tracer provider registered, a command's transaction runs in a span
 * (child of the caller's `traceparent`, or of the active context when none is given) and the
 * events store THAT span's context, so the relay's publish spans hang under the write. With
 * tracing off `fn` runs with the trace context the writer already resolved — no span (ADR 0004).
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Attributes, type Span } from '@opentelemetry/api';
import { AegisError } from '@aegis-ipc/protocol';
import type { TraceContext } from '../writer/trace-context.js';
import type { CommandResult } from '../writer/command-types.js';
import { tracer, tracingActive } from '@aegis-ipc/sdk';

export const WRITE_SPAN = 'ipc.outbox.write';

/**
 * Runs `fn` with the trace context its events must store: `resolved` (the caller's, or a fresh
 * root) when tracing is off; otherwise the context of a new `ipc.outbox.write` span that ends when
 * `fn` settles. `attributes` is only called when tracing is on.
 */
export async function writeInSpan<T>(
  given: TraceContext | undefined,
  resolved: TraceContext,
  attributes: () => Attributes,
  fn: (trace: TraceContext, span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!tracingActive()) return fn(resolved, undefined);
  const parent = given === undefined ? context.active() : propagation.extract(ROOT_CONTEXT, given);
  const span = tracer().startSpan(WRITE_SPAN, { kind: SpanKind.INTERNAL, attributes: attributes() }, parent);
  const active = trace.setSpan(parent, span);
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier);
  // No propagator registered: nothing was injected, keep the resolved context.
  const stored: TraceContext =
    carrier.traceparent === undefined ? resolved : carrier.tracestate === undefined ? { traceparent: carrier.traceparent } : { traceparent: carrier.traceparent, tracestate: carrier.tracestate };
  try {
    return await context.with(active, () => fn(stored, span));
  } catch (err) {
    span.setAttribute('error.type', err instanceof AegisError ? err.code : err instanceof Error ? err.name : 'Error');
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}

/** What the write span records about the command's outcome. */
export function writeResultAttributes(result: CommandResult): Attributes {
  return {
    'ipc.outbox.command_id': result.commandId,
    'ipc.outbox.command_status': result.status,
    'ipc.outbox.event_count': result.events.length,
    'ipc.outbox.replayed': result.replayed,
  };
}
