/**
 * Reads a routed call from a message on `ipc.route.request` without decoding the params.
 *
 * The body is the single source of truth: `scanRouteRequest` reads the routing fields straight
 * from the MessagePack bytes and steps over `params`; the bytes are then forwarded unchanged, so
 * the instance reads exactly what the caller sent. Only an unusual or invalid body takes the
 * slow path — the full hardened decode and schema check — which names each failing field.
 */
import type { Msg } from '@nats-io/nats-core';
import { AegisError, HEADERS, decode, newTraceId, routeRequest, scanRouteRequest, type ScannedRouteRequest } from '@aegis-ipc/protocol';

/** One routed call as the routing pipeline sees it. Immutable. */
export interface RouteInput {
  readonly serviceName: string;
  readonly method: string;
  readonly traceId: string;
  /** True when the router generated the trace id (the body has none): it is sent in a header. */
  readonly traceIdGenerated: boolean;
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

const TRACE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * @throws AegisError `VALIDATION_FAILED` (400, with fields) for a request the router cannot
 * route; `DECODE_FAILED`/`PAYLOAD_TOO_LARGE` when the body is not valid MessagePack.
 */
export function readRouteInput(msg: Msg, maxBytes: number, receivedAt: number): RouteInput {
  const body: ScannedRouteRequest | Readonly<Partial<ScannedRouteRequest>> = scanRouteRequest(msg.data) ?? routeRequest.parse(decode(msg.data, { maxBytes }), 'routed request');
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
      if (!Number.isInteger(hops) || hops < 0) throw invalid('header Ipc-Hops', 'must be a non-negative integer');
    }
    path = h.get(HEADERS.path);
  }
  if (traceId !== undefined && !TRACE_ID.test(traceId)) throw invalid('/trace_id', 'must be 1…64 characters of [A-Za-z0-9_-]');
  return {
    serviceName: body.service_name as string,
    method: body.method as string,
    traceId: traceId ?? newTraceId(),
    traceIdGenerated: traceId === undefined,
    traceparent,
    timeoutMs: body.timeout === undefined ? undefined : body.timeout * 1000,
    resourceId: body.resource_id,
    hops,
    path,
    data: msg.data,
    receivedAt,
  };
}

function invalid(path: string, message: string): AegisError<'VALIDATION_FAILED'> {
  return new AegisError('VALIDATION_FAILED', `invalid routed request: ${path}: ${message}`, { details: { fields: [{ path, message }] } });
}
