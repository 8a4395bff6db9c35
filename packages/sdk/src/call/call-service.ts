/**
 * One routed call: caller → `ipc.route.request` → router → instance → back (RT-1, RT-6).
 *
 * The body is the documented MessagePack map (the router reads its routing fields without
 * decoding params), trace id included; headers carry only what the body cannot: the live
 * span's `traceparent` when tracing is on and, for a call made inside a handler, the hop count
 * and path. The reply is `{ result }` or `{ error }`;
 * errors are rebuilt into the AegisError of the same code.
 */
import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import {
  AegisError,
  HEADERS,
  NatsHeaderBlock,
  SUBJECTS,
  assertName,
  decode,
  encode,
  isIdToken,
  newTraceId,
  toAegisError,
  unwrapReply,
  type RouteReply,
} from '@aegis-ipc/protocol';
import { callLineage, lineageOf } from '../instance/call-context.js';
import { assertFitsPayload } from '../transport/request-reply.js';
import { fromNatsError } from '../transport/nats-error.js';
import { AttemptFailed, type ReplyMux } from '../transport/reply-mux.js';
import { SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import { endSpanWhenSettled, tracer, tracingActive } from '../tracing/index.js';
import { injectTraceContextInto } from '../tracing/nats-carrier.js';
import type { Logger } from 'pino';
import { CALL_REPLY_GRACE_MS, resolveCallTimeout, type CallOptions } from './call-options.js';
import { callWithRetry, type RetriedCallInput } from './call-retry.js';

/**
 * Never throws: every failure, also one found before sending, is a rejection.
 * @throws AegisError `INVALID_NAME`/`VALIDATION_FAILED` (400) before sending, `PAYLOAD_TOO_LARGE`
 * before sending, `CANCELLED` when `signal` aborts, `TIMEOUT`, `CONNECTION_FAILED` (no router),
 * or the code the router or the handler answered with (`ROUTE_NO_INSTANCE`, `APPLICATION_ERROR`…);
 * with `retry`, the last attempt's error (`callAttempts` set) or `CONFIG_INVALID` for a bad `retry`.
 * @param logger where a retried call logs `call_retry` (debug); unused without `retry`.
 */
export function callService<T>(
  nc: NatsConnection,
  replies: ReplyMux,
  serviceName: string,
  method: string,
  params: Record<string, unknown> | undefined,
  options: CallOptions = {},
  logger?: Logger,
): Promise<T> {
  // A plain function returning the reply's promise (not an async one, whose returned promise
  // would be adopted in two more microtask turns): this is every caller's hot path. Without
  // `retry` it costs one property read more than before (ADR 0032).
  try {
    if (options.retry === undefined) return sendCall<T>(nc, replies, serviceName, method, params, options);
    return callWithRetry<T>({ serviceName, method, options: options as RetriedCallInput['options'], logger }, (attempt) =>
      sendCall<T>(nc, replies, serviceName, method, params, attempt, 'ipc.client.call_attempt'),
    );
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

function sendCall<T>(
  nc: NatsConnection,
  replies: ReplyMux,
  serviceName: string,
  method: string,
  params: Record<string, unknown> | undefined,
  options: CallOptions,
  spanName = 'ipc.client.call',
): Promise<T> {
  assertName('service_name', serviceName);
  assertName('method', method);
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
    throw new AegisError('VALIDATION_FAILED', 'params must be an object', { details: { fields: [{ path: '/params', message: 'must be an object' }] } });
  }
  const timeoutMs = resolveCallTimeout(options);
  options.signal?.throwIfAborted();
  if (options.traceId !== undefined && !isIdToken(options.traceId)) {
    throw new AegisError('VALIDATION_FAILED', 'traceId must be 1…64 characters of [A-Za-z0-9_-]', { details: { fields: [{ path: '/trace_id', message: 'invalid trace id' }] } });
  }
  const lineage = options.parent === undefined ? callLineage.getStore() : lineageOf(options.parent);
  // With a tracer provider registered the call is an `ipc.client.call` span, and a fresh trace
  // id is the span's, so the AegisIPC trace id and the OpenTelemetry trace are the same thing.
  const span: Span | undefined = tracingActive()
    ? tracer().startSpan(spanName, { kind: SpanKind.CLIENT, attributes: { 'ipc.service_name': serviceName, 'ipc.method': method } })
    : undefined;
  const traceId = options.traceId ?? lineage?.traceId ?? span?.spanContext().traceId ?? newTraceId();
  let data: Uint8Array;
  try {
    data = encode({
      service_name: serviceName,
      method,
      params: params ?? {},
      timeout: timeoutMs / 1000,
      trace_id: traceId,
      resource_id: options.resourceId,
      message_id: options.messageId,
    });
    assertFitsPayload(nc, data.length);
  } catch (err) {
    // Unencodable or oversized params: the span started above must still end (as an error).
    if (span !== undefined) {
      const e = toAegisError(err);
      span.setAttribute('error.type', e.code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
      span.end();
    }
    throw err;
  }

  // Headers only for what the body cannot say: the trace id is in the body, and without a live
  // span the router derives the same W3C `traceparent` from it. A call without headers is
  // markedly cheaper for every party (no header block to build, parse or carry).
  let h: MsgHdrs | undefined;
  if (span !== undefined || options.messageId !== undefined || lineage !== undefined) {
    const pairs: string[] = [];
    if (span !== undefined) {
      for (const [key, value] of Object.entries(injectTraceContextInto({}, trace.setSpan(context.active(), span)))) pairs.push(key, value);
    }
    if (options.messageId !== undefined) pairs.push(HEADERS.messageId, options.messageId);
    if (lineage !== undefined) {
      pairs.push(HEADERS.hops, String(lineage.hops));
      if (lineage.path !== '') pairs.push(HEADERS.path, lineage.path);
    }
    // Prebuilt header bytes: nats.js only calls encode() on them (see NatsHeaderBlock).
    h = new NatsHeaderBlock(pairs) as unknown as MsgHdrs;
  }

  const waitMs = timeoutMs + CALL_REPLY_GRACE_MS;
  const request = replies.request(SUBJECTS.routeRequest, data, h, waitMs);
  const waiting = options.signal === undefined ? request : abortable(request, options.signal);
  const answered = waiting.then(
    (reply) => unwrapReply<RouteReply<T>>(decode(reply.data, { maxBytes: nc.info?.max_payload })).result as T,
    (err: unknown) => {
      throw callFailure(err, serviceName, method, traceId, waitMs);
    },
  );
  if (span === undefined) return answered;
  span.setAttribute('ipc.trace_id', traceId);
  return endSpanWhenSettled(span, answered);
}

/** The error a call that got no reply fails with. */
function callFailure(err: unknown, serviceName: string, method: string, traceId: string, waitMs: number): Error {
  if (err instanceof AegisError) return err;
  const what = `call ${serviceName}.${method} (trace ${traceId})`;
  if (err instanceof AttemptFailed) {
    // The AttemptFailed is kept as the cause: a retry tells by it that the call never left.
    // The trace id in the details too, not only in the message (RT-4: every error carries it).
    const details = { service_name: serviceName, method, trace_id: traceId };
    return err.failure === 'timeout'
      ? new AegisError('TIMEOUT', `${what}: no reply within ${waitMs} ms`, { cause: err, details: { ...details, timeout_ms: waitMs } })
      : new AegisError('CONNECTION_FAILED', `${what}: no responder is listening (is the router running?)`, { cause: err, details });
  }
  return fromNatsError(err, what, waitMs);
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AegisError('CANCELLED', 'the call was aborted by its signal', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
