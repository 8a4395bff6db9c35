/**
 * Reads a routed call from a message on `ipc.route.request` without touching the params.
 *
 * Fast path: the SDK copies service, method, timeout and trace id into headers, so the router
 * routes from headers alone and forwards the body bytes unchanged. A body-only request (another
 * language, hand-built) is decoded and validated against the schema instead. Either way the
 * instance gets the caller's original bytes and validates the full body itself.
 */
import type { Msg } from '@nats-io/nats-core';
import { AegisError, HEADERS, MAX_ROUTE_TIMEOUT_S, decode, nameProblem, newTraceId, routeRequest } from '@aegis-ipc/protocol';

/** One routed call as the routing pipeline sees it. Immutable. */
export interface RouteInput {
  readonly serviceName: string;
  readonly method: string;
  readonly traceId: string;
  /** The caller's timeout (ms), when it sent one. */
  readonly timeoutMs: number | undefined;
  readonly resourceId: string | undefined;
  /** Routed hops this call chain took before this one. */
  readonly hops: number;
  /** `Ipc-Path` so far (comma-separated). */
  readonly path: string;
  /** The caller's body, forwarded unchanged. */
  readonly data: Uint8Array;
  /** `performance.now()` when the router received it. */
  readonly receivedAt: number;
}

const TRACE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * @throws AegisError `VALIDATION_FAILED` (400, with fields) for a request the router cannot
 * route; `DECODE_FAILED`/`PAYLOAD_TOO_LARGE` for a body-only request that is not valid MessagePack.
 */
export function readRouteInput(msg: Msg, maxBytes: number, receivedAt: number): RouteInput {
  const h = msg.headers;
  const headerService = h?.get(HEADERS.service);
  let serviceName: string;
  let method: string;
  let traceId: string | undefined;
  let timeoutMs: number | undefined;
  let resourceId: string | undefined;
  if (headerService) {
    serviceName = headerService;
    method = h?.get(HEADERS.method) ?? '';
    const fields = [fieldProblem('/service_name', serviceName), fieldProblem('/method', method)].filter((f) => f !== undefined);
    if (fields.length > 0) throw invalid(fields);
    traceId = h?.get(HEADERS.traceId) || undefined;
    const rawTimeout = h?.get(HEADERS.timeoutMs);
    if (rawTimeout) {
      timeoutMs = Number(rawTimeout);
      if (!(timeoutMs > 0 && timeoutMs <= MAX_ROUTE_TIMEOUT_S * 1000)) throw invalid([{ path: '/timeout', message: `must be a number of ms in (0, ${MAX_ROUTE_TIMEOUT_S * 1000}]` }]);
    }
    resourceId = h?.get(HEADERS.resourceId) || undefined;
  } else {
    const body = routeRequest.parse(decode(msg.data, { maxBytes }), 'routed request');
    serviceName = body.service_name;
    method = body.method;
    traceId = body.trace_id ?? (h?.get(HEADERS.traceId) || undefined);
    timeoutMs = body.timeout === undefined ? undefined : body.timeout * 1000;
    resourceId = body.resource_id;
  }
  if (traceId !== undefined && !TRACE_ID.test(traceId)) throw invalid([{ path: '/trace_id', message: 'must be 1…64 characters of [A-Za-z0-9_-]' }]);
  const hops = Number(h?.get(HEADERS.hops) || 0);
  if (!Number.isInteger(hops) || hops < 0) throw invalid([{ path: 'header Ipc-Hops', message: 'must be a non-negative integer' }]);
  return {
    serviceName,
    method,
    traceId: traceId ?? newTraceId(),
    timeoutMs,
    resourceId,
    hops,
    path: h?.get(HEADERS.path) ?? '',
    data: msg.data,
    receivedAt,
  };
}

function fieldProblem(path: string, value: string): { path: string; message: string } | undefined {
  const problem = nameProblem(value);
  return problem === undefined ? undefined : { path, message: problem };
}

function invalid(fields: { path: string; message: string }[]): AegisError<'VALIDATION_FAILED'> {
  const first = fields[0] as { path: string; message: string };
  return new AegisError('VALIDATION_FAILED', `invalid routed request: ${first.path}: ${first.message}`, { details: { fields } });
}
