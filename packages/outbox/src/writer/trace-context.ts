/**
 * W3C trace context stored with every event (metadata and outbox headers), so a consumer can
 * continue the trace of the request that caused it.
 */
import { AegisError, newTraceId, randomHex } from '@aegis-ipc/protocol';

/** `traceparent` (and optional `tracestate`) of the request that wrote the events. */
export interface TraceContext {
  readonly traceparent: string;
  readonly tracestate?: string;
}

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The caller's trace context when given (validated), otherwise a fresh sampled root, so every
 * event can be traced.
 * @throws AegisError `VALIDATION_FAILED` when `traceparent` is malformed.
 */
export function resolveTraceContext(trace: TraceContext | undefined): TraceContext {
  if (trace === undefined) {
    // Pooled random bytes (as the trace id): `randomBytes(8)` was a getrandom syscall per command.
    return { traceparent: `00-${newTraceId()}-${randomHex(8)}-01` };
  }
  if (!TRACEPARENT.test(trace.traceparent)) {
    throw new AegisError('VALIDATION_FAILED', 'traceparent is not a W3C trace context (00-<32 hex>-<16 hex>-<2 hex>)', {
      details: { fields: [{ path: '/trace/traceparent', message: 'malformed traceparent' }] },
    });
  }
  return trace.tracestate === undefined ? { traceparent: trace.traceparent } : trace;
}

/** Headers a sink sets on the published message. */
export function traceHeaders(trace: TraceContext): Record<string, string> {
  return trace.tracestate === undefined ? { traceparent: trace.traceparent } : { traceparent: trace.traceparent, tracestate: trace.tracestate };
}
