/**
 * Serves routed calls arriving on `ipc.instance.{instance_id}.inbox`: decodes the request the
 * router forwarded (the caller's bytes, unchanged), runs the method through the
 * {@link MethodTable} and replies `{ result }` or `{ error }` to the router's reply subject.
 *
 * Every failure — undecodable bytes, an unknown method, a throwing handler, an unencodable
 * result — becomes an error reply: the router gets an answer and does not fail over, because
 * sending the same call to another instance would fail the same way.
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import {
  AegisError,
  HEADERS,
  decode,
  encode,
  errorReply,
  instanceInboxSubject,
  newTraceId,
  routeRequest,
  scanRouteRequest,
  withTraceId,
  DEFAULT_MAX_DEPTH,
  type RouteRequest,
} from '@aegis-ipc/protocol';
import type { Logger } from 'pino';
import { SpanKind } from '@opentelemetry/api';
import { inSpan, tracingActive } from '../tracing/index.js';
import { extractTraceContext } from '../tracing/nats-carrier.js';
import { LazyCallContext, callLineage, type DeliveryInfo } from './call-context.js';
import type { MethodTable } from './method-table.js';
import { guardedCallback } from '../transport/guarded-callback.js';

export interface InboxServerOptions {
  readonly serviceName: string;
  readonly instanceId: string;
  readonly logger: Logger;
  /** Run handlers inside `callLineage` so nested calls find their parent automatically. @default false */
  readonly asyncCallContext?: boolean;
}

/** Attempt budget assumed when a request carries no timeout at all. */
const FALLBACK_TIMEOUT_MS = 15_000;
/** Room left for headers and framing when checking a reply against max_payload. */
const HEADER_ROOM = 4096;

/** Delivery details the router put in the headers. */
function deliveryOf(msg: Msg): DeliveryInfo {
  const h = msg.headers;
  const attempt = Number(h?.get(HEADERS.attempt) || 1);
  const timeoutMs = Number(h?.get(HEADERS.timeoutMs));
  return {
    attempt: Number.isInteger(attempt) && attempt > 0 ? attempt : 1,
    timeoutMs: timeoutMs > 0 ? timeoutMs : undefined,
    hops: Number(h?.get(HEADERS.hops)) || 0,
    path: h?.get(HEADERS.path) ?? '',
  };
}

/** What the inbox reads of a routed request. */
interface ServedRequest extends Pick<RouteRequest, 'method' | 'trace_id' | 'message_id' | 'resource_id' | 'timeout'> {
  readonly params: Record<string, unknown>;
}

/**
 * The request and its params. The routing fields are read by the same strict scanner the router
 * uses and only the params map is decoded; anything the scanner declines (unusual encoding,
 * invalid field) takes the full decode and schema check, which names the failing field.
 * @throws AegisError `PAYLOAD_TOO_LARGE`, `DECODE_FAILED`, `VALIDATION_FAILED`
 */
function readRequest(data: Uint8Array, maxBytes: number): ServedRequest {
  const scanned = data.length <= maxBytes ? scanRouteRequest(data) : undefined;
  if (scanned === undefined) {
    const body = routeRequest.parse(decode(data, { maxBytes }), 'routed request');
    return { ...body, params: body.params ?? {} };
  }
  // The params map sits one level below the body: the same depth limit as a whole-body decode.
  let params: Record<string, unknown>;
  try {
    params = scanned.params_start < 0 ? {} : (decode(data.subarray(scanned.params_start, scanned.params_end), { maxBytes, maxDepth: DEFAULT_MAX_DEPTH - 1 }) as Record<string, unknown>);
  } catch (err) {
    // Hostile params the router forwarded undecoded: refused with the call's own trace id (RT-4).
    throw withTraceId(err, scanned.trace_id);
  }
  return { method: scanned.method, trace_id: scanned.trace_id, message_id: scanned.message_id, resource_id: scanned.resource_id, timeout: scanned.timeout, params };
}

export class InboxServer {
  readonly #nc: NatsConnection;
  readonly #table: MethodTable;
  readonly #options: InboxServerOptions;
  readonly #closing = new AbortController();
  #sub: Subscription | undefined;
  #inFlight = 0;

  constructor(nc: NatsConnection, table: MethodTable, options: InboxServerOptions) {
    this.#nc = nc;
    this.#table = table;
    this.#options = options;
  }

  /** Calls being served right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  start(): void {
    if (this.#sub !== undefined) return;
    this.#sub = this.#nc.subscribe(instanceInboxSubject(this.#options.instanceId), {
      callback: guardedCallback(
        (err, msg) => {
          if (err === null) this.#serve(msg);
        },
        (err) => this.#options.logger.error({ err }, 'a subscription callback threw; that message was dropped'),
      ),
    });
  }

  /** Stops taking calls and aborts the signals of calls in flight. */
  close(): void {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    this.#closing.abort(new AegisError('CLOSED', `instance ${this.#options.instanceId} is closing`));
  }

  #serve(msg: Msg): void {
    let ctx: LazyCallContext;
    let params: Record<string, unknown>;
    try {
      const body = readRequest(msg.data, this.#maxPayload());
      // Headers are parsed only when the body lacks the trace id or the handler asks for
      // delivery details (attempt, signal, nested calls): see LazyCallContext.
      const traceId = body.trace_id ?? (msg.headers?.get(HEADERS.traceId) || newTraceId());
      params = body.params;
      ctx = new LazyCallContext(
        {
          traceId,
          messageId: body.message_id,
          serviceName: this.#options.serviceName,
          instanceId: this.#options.instanceId,
          method: body.method,
          resourceId: body.resource_id,
        },
        () => deliveryOf(msg),
        body.timeout === undefined ? FALLBACK_TIMEOUT_MS : body.timeout * 1000,
        this.#closing.signal,
      );
    } catch (err) {
      // Refused before the handler: still answered with a trace id (RT-4), the header's if valid.
      if (msg.reply) msg.respond(encode(errorReply(withTraceId(err, msg.headers?.get(HEADERS.traceId)))));
      return;
    }
    this.#inFlight++;
    // No named closure per call: tsx (esbuild keepNames) wraps each in a defineProperty call.
    const running = tracingActive()
      ? this.#traced(msg, ctx, () => this.#invoke(ctx, params))
      : this.#invoke(ctx, params);
    // One settle step per call (no .finally/.catch chain): this is the instance's hot path.
    running.then(
      (result) => this.#settle(msg, { result }, ctx),
      (err: unknown) => this.#settle(msg, errorReply(err), ctx),
    );
  }

  #invoke(ctx: LazyCallContext, params: Record<string, unknown>): Promise<unknown> {
    return this.#options.asyncCallContext === true
      ? callLineage.run(ctx.lineage, () => this.#table.invoke(ctx.method, params, ctx))
      : this.#table.invoke(ctx.method, params, ctx);
  }

  /** Runs the handler in an `ipc.instance.handle` span, child of the router's span. */
  #traced(msg: Msg, ctx: LazyCallContext, invoke: () => Promise<unknown>): Promise<unknown> {
    return inSpan(
      'ipc.instance.handle',
      {
        kind: SpanKind.SERVER,
        parent: extractTraceContext(msg.headers),
        attributes: { 'ipc.service_name': ctx.serviceName, 'ipc.instance_id': ctx.instanceId, 'ipc.method': ctx.method, 'ipc.trace_id': ctx.traceId },
      },
      invoke,
    );
  }

  #settle(msg: Msg, body: unknown, ctx: LazyCallContext): void {
    this.#inFlight--;
    try {
      this.#respond(msg, body, ctx);
    } catch (err) {
      this.#options.logger.error({ event: 'call_reply_failed', err, trace_id: ctx.traceId, message_id: ctx.messageId, method: ctx.method, instance_id: ctx.instanceId }, 'failed to reply to a routed call');
    }
  }

  #respond(msg: Msg, body: unknown, ctx: LazyCallContext): void {
    if (!msg.reply || this.#nc.isClosed()) return;
    let data: Uint8Array;
    try {
      data = encode(body);
      const limit = this.#maxPayload() - HEADER_ROOM;
      if (data.length > limit) {
        throw new AegisError('PAYLOAD_TOO_LARGE', `result of ${ctx.method} is ${data.length} bytes, over the ${limit}-byte limit`, { details: { size: data.length, limit, trace_id: ctx.traceId } });
      }
    } catch (err) {
      this.#options.logger.warn({ event: 'call_result_unsendable', err, trace_id: ctx.traceId, message_id: ctx.messageId, method: ctx.method, instance_id: ctx.instanceId }, 'could not send the result; replying with an error');
      data = encode(errorReply(err));
    }
    msg.respond(data);
  }

  #maxPayload(): number {
    return this.#nc.info?.max_payload ?? 1024 * 1024;
  }
}
