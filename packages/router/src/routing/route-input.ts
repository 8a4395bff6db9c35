/**
 * Reads a routed call from a message on `ipc.route.request` without decoding the params.
 *
 * The body is the single source of truth: `scanRouteRequest` reads the routing fields straight
 * from the MessagePack bytes and steps over `params`; the bytes are then forwarded unchanged, so
 * the instance reads exactly what the caller sent. Only an unusual or invalid body takes the
 * slow path — the full hardened decode and schema check — which names each failing field.
 */
import type { Msg } from '@nats-io/nats-core';
import { AegisError, HEADERS, decode, isIdToken, newTraceId, withTraceId, routeRequest, scanRouteRequest, type ScannedRouteRequest } from '@aegis-ipc/protocol';

/** One routed call as the routing pipeline sees it. Immutable. */
export interface RouteInput {
  readonly serviceName: string;
  readonly method: string;
  readonly traceId: string;
  /** True when the router generated the trace id (the body has none): it is sent in a header. */
  readonly traceIdGenerated: boolean;
  /**
   * The caller's message id (the body's `message_id`), for the router's log lines (OBS-3);
   * `undefined` for a call sent without one.
   */
  readonly messageId: string | undefined;
  /** The caller's `traceparent`, propagated unchanged. */
  readonly traceparent: string | undefined;
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

/**
 * Each error carries `details.trace_id` (RT-4): the request's when it can be read, else a new one.
 * @throws AegisError `VALIDATION_FAILED` (400, with fields) for a request the router cannot
 * route; `DECODE_FAILED`/`PAYLOAD_TOO_LARGE` when the body is not valid MessagePack.
 */
export function readRouteInput(msg: Msg, maxBytes: number, receivedAt: number): RouteInput {
  const body: ScannedRouteRequest | Readonly<Partial<ScannedRouteRequest>> = scanRouteRequest(msg.data) ?? readSlowly(msg, maxBytes);
  const h = msg.headers;
  let traceId = body.trace_id;
  let traceparent: string | undefined;
  let hops = 0;
  let path = '';
  if (h !== undefined) {
    traceId ??= h.get(HEADERS.traceId) || undefined;
    traceparent = h.get(HEADERS.traceparent) || undefined;
    const rawHops = h.get(HEADERS.hops);
    if (rawHops !== '') {
      hops = Number(rawHops);
      if (!Number.isInteger(hops) || hops < 0) throw withTraceId(invalid('header Ipc-Hops', 'must be a non-negative integer'), traceId);
    }
    path = h.get(HEADERS.path);
  }
  if (traceId !== undefined && !isIdToken(traceId)) throw withTraceId(invalid('header Ipc-Trace-Id', 'must be 1…64 characters of [A-Za-z0-9_-]'));
  return {
    serviceName: body.service_name as string,
    method: body.method as string,
    traceId: traceId ?? newTraceId(),
    traceIdGenerated: traceId === undefined,
    messageId: body.message_id,
    traceparent,
    timeoutMs: body.timeout === undefined ? undefined : body.timeout * 1000,
    resourceId: body.resource_id,
    hops,
    path,
    data: msg.data,
    receivedAt,
  };
}

/**
 * The full hardened decode and schema check of a body the scanner declined. A refusal carries the
 * body's trace id when the body decodes and that field is valid, else the header's.
 */
function readSlowly(msg: Msg, maxBytes: number): Readonly<Partial<ScannedRouteRequest>> {
  let decoded: unknown;
  try {
    decoded = decode(msg.data, { maxBytes });
  } catch (err) {
    throw withTraceId(err, msg.headers?.get(HEADERS.traceId));
  }
  try {
    return routeRequest.parse(decoded, 'routed request');
  } catch (err) {
    const bodyTraceId = typeof decoded === 'object' && decoded !== null ? (decoded as { trace_id?: unknown }).trace_id : undefined;
    throw withTraceId(err, bodyTraceId, msg.headers?.get(HEADERS.traceId));
  }
}

function invalid(path: string, message: string): AegisError<'VALIDATION_FAILED'> {
  return new AegisError('VALIDATION_FAILED', `invalid routed request: ${path}: ${message}`, { details: { fields: [{ path, message }] } });
}
