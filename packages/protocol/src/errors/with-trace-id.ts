/**
 * An error answered for a call carries the call's trace id (RT-4), also when the call was refused
 * before its trace id could be trusted (an unreadable body, an invalid field, no room for headers):
 * the caller quotes it, and the refusing side's log line carries the same one. Only refusals pay
 * for this.
 */
import { AegisError, toAegisError } from './aegis-error.js';
import type { ErrorDetails } from './error-details.js';
import { isIdToken, newTraceId } from '../ids.js';

/**
 * `err` as an AegisError whose details carry `trace_id`: its own when it has one, else the first
 * of `candidates` that is a valid id, else a new one.
 */
export function withTraceId(err: unknown, ...candidates: ReadonlyArray<unknown>): AegisError {
  const e = toAegisError(err);
  const existing = (e.details as { trace_id?: unknown } | undefined)?.trace_id;
  if (typeof existing === 'string') return e;
  const traceId = candidates.find(isIdToken) ?? newTraceId();
  // Everything else of the error stays: its retryable flag (it travels), attempts count and stack.
  const traced = new AegisError(e.code, e.message, {
    details: { ...e.details, trace_id: traceId } as ErrorDetails<typeof e.code>,
    cause: e.cause ?? e,
    retryable: e.retryable,
    callAttempts: e.callAttempts,
  });
  traced.stack = e.stack;
  return traced;
}
