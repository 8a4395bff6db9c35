/**
 * A routed call the router refuses before routing it (an unreadable body, an invalid field, no
 * room for the routing headers) is still answered with the trace id (RT-4): the caller quotes it,
 * and the router's `route_rejected` line carries the same one. The call's own id when it can be
 * read and is valid; otherwise one made for the error. Only refusals pay for this.
 */
import { AegisError, newTraceId, toAegisError, type ErrorDetails } from '@aegis-ipc/protocol';

/** The trace id rule of the RouteRequest schema (`TraceId`). */
export const TRACE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** `err` as an AegisError whose details carry `trace_id`: `candidates`' first valid id, else a new one. */
export function withTraceId(err: unknown, ...candidates: ReadonlyArray<unknown>): AegisError {
  const e = toAegisError(err);
  const existing = (e.details as { trace_id?: unknown } | undefined)?.trace_id;
  if (typeof existing === 'string') return e;
  const traceId = (candidates.find((c) => typeof c === 'string' && TRACE_ID.test(c)) as string | undefined) ?? newTraceId();
  return new AegisError(e.code, e.message, { details: { ...e.details, trace_id: traceId } as ErrorDetails<typeof e.code>, cause: e.cause ?? e });
}
