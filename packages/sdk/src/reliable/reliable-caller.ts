/**
 * The calling side of exactly-once calls (`client.callReliable`). The request is made durable in
 * JetStream (`Nats-Msg-Id` = message id) before anything else can go wrong — being in the stream
 * is its `PENDING` state, no other write is needed (ADR 0053) — then the caller waits for the
 * EO-2 ACK on `ipc.ack.{message_id}`. Each ack-timeout interval
 * without an ACK it reads the status (the ACK may have been lost) and re-publishes the same id —
 * a no-op inside the duplicate window, an idempotent duplicate after it. Redelivery itself is the
 * broker's (the service's consumer), not the caller's.
 */
import { createInbox, type MsgHdrs, type NatsConnection } from '@nats-io/nats-core';
import { SpanKind, context, trace, type Span } from '@opentelemetry/api';
import { jetstreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AegisError, HEADERS, NatsHeaderBlock, ackSubject, assertName, decode, encode, isIdToken, newMessageId, newTraceId, type WireError } from '@aegis-ipc/protocol';
import { callLineage } from '../instance/call-context.js';
import { endSpanWhenSettled, injectTraceContextInto, tracer, tracingActive } from '../tracing/index.js';
import { assertFitsPayload } from '../transport/request-reply.js';
import type { AckMessage } from './ack-message.js';
import { MessageStatusStore, type MessageStatus } from './message-status.js';
import { RELIABLE_HEADERS } from './reliable-headers.js';
import { reliableMetrics, type ReliableMetrics } from './reliable-metrics.js';
import { DEFAULT_DUPLICATE_WINDOW_MS, positive, resolveRetrySchedule, retryDelayMs, retryHorizonMs, type RetrySchedule } from './reliable-options.js';
import type { BoundCounter } from '../metrics/folded-counter.js';
import { lazyChild } from './lazy-child.js';
import { ensureReliableStreams, requestSubject } from './reliable-topology.js';
import { JetStreamPublisher, JetStreamPublishError } from '../jetstream/jetstream-publisher.js';
import { DEFAULT_STATUS_TTL_MS } from './receiver-options.js';
import { guardedCallback } from '../transport/guarded-callback.js';

/** Options of one `callReliable()`. */
export interface ReliableCallOptions {
  /** The message id (EO-1). A caller retrying after its own crash passes the same id. @default a new UUID v4 */
  readonly messageId?: string;
  /** How long to wait for the ACK before checking the status and re-sending. @default 30000 */
  readonly ackTimeoutMs?: number;
  /** Deliveries after the first this message allows (≤ the service's). @default 3 */
  readonly maxRetries?: number;
  /** @default the enclosing call's trace id, else a new one */
  readonly traceId?: string;
  /** Total wait for the ACK. @default the retry horizon (ack timeout × deliveries + backoff) plus 1 s */
  readonly timeoutMs?: number;
  /** The message expires (state EXPIRED, never processed) if not started within this time. @default never */
  readonly ttlMs?: number;
  /** Stops waiting (`CANCELLED`); the durable message is still processed. */
  readonly signal?: AbortSignal;
  /** A duplicate id resolves with the original response (`'resolve'`) or throws MESSAGE_DUPLICATE. @default 'resolve' */
  readonly onDuplicate?: 'resolve' | 'throw';
  /**
   * When JetStream cannot store the request: fail with STORAGE_FAILURE (false) or send it once
   * with the at-most-once `fallback` (a plain routed call) and log that the guarantee was lowered.
   * @default false
   */
  readonly degradeToAtMostOnce?: boolean;
}

/** Options of a {@link ReliableCaller} (one per client). */
export interface ReliableCallerOptions {
  readonly logger: Logger;
  /** @default prom-client's global registry */
  readonly registry?: Registry;
  /** Duplicate window of the request stream, if this caller creates it. @default 600000 */
  readonly duplicateWindowMs?: number;
  /** Status bucket max_age, if this caller creates it. @default 86400000 */
  readonly statusTtlMs?: number;
  /** The at-most-once call used by `degradeToAtMostOnce`. */
  readonly fallback?: (serviceName: string, method: string, params: Record<string, unknown>, traceId: string) => Promise<unknown>;
}

/** The schedule of a call that sets neither `ackTimeoutMs` nor `maxRetries` (most calls), resolved once. */
const DEFAULT_SCHEDULE = resolveRetrySchedule({});
const DEFAULT_TIMEOUT_MS = retryHorizonMs(DEFAULT_SCHEDULE) + 1_000;
/** How long a request publish waits for the stream's ack (nats.js' JetStream default). */
const PUBLISH_TIMEOUT_MS = 5_000;

export class ReliableCaller {
  readonly #nc: NatsConnection;
  readonly #options: ReliableCallerOptions;
  readonly #metrics: ReliableMetrics;
  #ready: Promise<MessageStatusStore> | undefined;
  /** The store once open: later calls take it without awaiting a settled promise. */
  #opened: MessageStatusStore | undefined;
  /** Direct ACKs (`Ipc-Ack-To`): one wildcard subscription per caller, one waiter per call. */
  #ackInbox: string | undefined;
  #ackSeq = 0;
  readonly #ackWaiters = new Map<string, (data: Uint8Array | undefined) => void>();
  #publisher: JetStreamPublisher | undefined;
  /** `ipc_messages_sent_total` by service, bound once (folded into the counter on scrape). */
  readonly #sent = new Map<string, BoundCounter>();

  constructor(nc: NatsConnection, options: ReliableCallerOptions) {
    this.#nc = nc;
    this.#options = options;
    this.#metrics = reliableMetrics(options.registry);
  }

  /** The status store (and streams), created on first use and shared by all calls. */
  #store(): Promise<MessageStatusStore> {
    this.#ready ??= (async () => {
      await ensureReliableStreams(await jetstreamManager(this.#nc), this.#options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS);
      return (this.#opened = await MessageStatusStore.open(this.#nc, this.#options.statusTtlMs ?? DEFAULT_STATUS_TTL_MS));
    })();
    this.#ready.catch(() => (this.#ready = undefined)); // try again on the next call
    return this.#ready;
  }

  /** A fresh `Ipc-Ack-To` subject of this caller (its inbox subscription starts on first use). */
  #ackRoute(): string {
    if (this.#ackInbox === undefined) {
      // The connection's inbox prefix, so deployments that only allow their own inboxes work.
      const inbox = createInbox((this.#nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
      this.#nc.subscribe(`${inbox}.*`, { callback: guardedCallback((err, m) => (err ? undefined : this.#ackWaiters.get(m.subject)?.(m.data))) });
      this.#nc.closed().then(() => {
        for (const wake of this.#ackWaiters.values()) wake(undefined);
      }, () => undefined);
      this.#ackInbox = inbox;
    }
    return `${this.#ackInbox}.${++this.#ackSeq}`;
  }

  /** The recorded status of `messageId`, read straight from the status bucket. */
  async status(messageId: string): Promise<MessageStatus | undefined> {
    return (await this.#store()).get(messageId);
  }

  /**
   * See `AegisClient.callReliable`.
   * @throws AegisError `INVALID_NAME`/`VALIDATION_FAILED`/`CONFIG_INVALID` before sending,
   * `STORAGE_FAILURE` (not made durable; retry), `ACK_TIMEOUT` (durable, outcome unknown yet:
   * query the status or call again with the same id), `MESSAGE_DUPLICATE` (onDuplicate 'throw'),
   * `MESSAGE_EXPIRED`, `CANCELLED`, or the handler's error once the message FAILED.
   */
  async call<T>(serviceName: string, method: string, params: Record<string, unknown> = {}, options: ReliableCallOptions = {}): Promise<T> {
    assertName('service_name', serviceName);
    assertName('method', method);
    const messageId = options.messageId ?? newMessageId();
    if (!isIdToken(messageId)) {
      throw new AegisError('VALIDATION_FAILED', 'messageId must be 1…64 characters of [A-Za-z0-9_-] (a UUID v4 by default)', { details: { fields: [{ path: '/message_id', message: 'invalid message id' }] } });
    }
    // With a tracer provider registered the call is an `ipc.client.call_reliable` span whose
    // context travels in the request's headers, so every delivery attempt joins its trace.
    const span: Span | undefined = tracingActive()
      ? tracer().startSpan('ipc.client.call_reliable', { kind: SpanKind.CLIENT, attributes: { 'ipc.service_name': serviceName, 'ipc.method': method, 'ipc.message_id': messageId } })
      : undefined;
    if (options.traceId !== undefined && !isIdToken(options.traceId)) {
      span?.end();
      throw new AegisError('VALIDATION_FAILED', 'traceId must be 1…64 characters of [A-Za-z0-9_-]', { details: { fields: [{ path: '/trace_id', message: 'invalid trace id' }] } });
    }
    const traceId = options.traceId ?? callLineage.getStore()?.traceId ?? span?.spanContext().traceId ?? newTraceId();
    // An enclosing call's trace id came from a peer: it goes into a prebuilt header block, so it
    // must not carry a line break (MsgHdrs refused those too).
    if (/[\r\n]/.test(traceId)) {
      span?.end();
      throw new AegisError('VALIDATION_FAILED', 'the trace id must not contain CR or LF', { details: { fields: [{ path: '/trace_id', message: 'invalid trace id' }] } });
    }
    if (span === undefined) return this.#call<T>(serviceName, method, params, options, messageId, traceId, undefined);
    span.setAttribute('ipc.trace_id', traceId);
    return endSpanWhenSettled(span, this.#call<T>(serviceName, method, params, options, messageId, traceId, span));
  }

  async #call<T>(serviceName: string, method: string, params: Record<string, unknown>, options: ReliableCallOptions, messageId: string, traceId: string, span: Span | undefined): Promise<T> {
    const defaults = options.ackTimeoutMs === undefined && options.maxRetries === undefined;
    const schedule = defaults ? DEFAULT_SCHEDULE : resolveRetrySchedule({ ackTimeoutMs: options.ackTimeoutMs, maxRetries: options.maxRetries });
    const timeoutMs = options.timeoutMs !== undefined ? positive('timeoutMs', options.timeoutMs) : defaults ? DEFAULT_TIMEOUT_MS : retryHorizonMs(schedule) + 1_000;
    if (options.ttlMs !== undefined) positive('ttlMs', options.ttlMs);
    // The call's logger is made only when something is logged (a pino child per call is not free).
    const log = lazyChild(this.#options.logger, { message_id: messageId, trace_id: traceId, service_name: serviceName, method });
    const data = encode(params);
    assertFitsPayload(this.#nc, data.length);
    const now = Date.now();
    // The request's headers as a prebuilt block (ADR 0053): every value is an id, a number, an
    // ISO time or a subject of ours, so none can carry CR/LF. `Ipc-First-Send` stays last so a
    // re-send can drop it.
    const pairs: string[] = [
      HEADERS.natsMsgId, messageId, 'Nats-Expected-Last-Subject-Sequence', '0',
      HEADERS.messageId, messageId, HEADERS.traceId, traceId,
      RELIABLE_HEADERS.createdAt, new Date(now).toISOString(), RELIABLE_HEADERS.maxDeliveries, String(schedule.maxRetries + 1),
    ];
    if (options.ttlMs !== undefined) pairs.push(RELIABLE_HEADERS.expiresAt, String(now + options.ttlMs));
    if (span !== undefined) {
      for (const [key, value] of Object.entries(injectTraceContextInto({}, trace.setSpan(context.active(), span)))) pairs.push(key, value);
    }
    // The ACK of this call: straight to this caller's inbox (no per-call subscription), or — when
    // another copy of the id is in flight — from `ipc.ack.{id}`. Undefined: the connection closed.
    let ackTo: string | undefined;
    let wake!: (data: Uint8Array | undefined) => void;
    const ackArrived = new Promise<Uint8Array | undefined>((resolve) => (wake = resolve));

    let sub: ReturnType<NatsConnection['subscribe']> | undefined;
    try {
      let store: MessageStatusStore;
      let existing: MessageStatus | undefined;
      const subject = requestSubject(serviceName, method, messageId);
      try {
        ackTo = this.#ackRoute();
        pairs.push(RELIABLE_HEADERS.ackTo, ackTo);
        // An id generated here has never been sent: its first delivery needs no claim (ADR 0053).
        const h = new NatsHeaderBlock(options.messageId === undefined ? pairs.concat(RELIABLE_HEADERS.firstSend, '1') : pairs) as unknown as MsgHdrs;
        this.#ackWaiters.set(ackTo, wake);
        store = this.#opened ?? (await this.#store());
        // Durable first: the publish ack means the request survives this process. A caller-chosen
        // id may have been answered before (a retry after a crash): read its record meanwhile.
        // A fresh UUID cannot have one unless JetStream says the publish was a duplicate.
        let duplicate: boolean;
        if (options.messageId === undefined) duplicate = await this.#publish(subject, data, h);
        else [duplicate, existing] = await Promise.all([this.#publish(subject, data, h), store.recorded(messageId)]);
        if (duplicate && (existing === undefined || existing.state === 'PENDING')) {
          // Another copy answers to its own caller: listen on `ipc.ack.{id}` first, then read the
          // record, so an ACK published in between is seen in the record.
          sub = this.#nc.subscribe(ackSubject(messageId), { max: 1, callback: guardedCallback((err, m) => wake(err ? undefined : m.data)) });
          existing = await store.recorded(messageId);
        }
        span?.setAttribute('ipc.reliable.duplicate_publish', duplicate);
      } catch (err) {
        const cause = err instanceof AegisError ? err : new AegisError('STORAGE_FAILURE', `cannot make ${messageId} durable: ${(err as Error).message}`, { cause: err });
        if (!options.degradeToAtMostOnce || this.#options.fallback === undefined) throw cause;
        log().warn({ event: 'degraded_to_at_most_once', err: cause.toWire() }, 'JetStream unavailable: sending once, at most once (degradeToAtMostOnce)');
        return (await this.#options.fallback(serviceName, method, params, traceId)) as T;
      }
      this.#sentCounter(serviceName).inc();
      if (this.#options.logger.isLevelEnabled('debug')) log().debug({ event: 'message_sent', state: 'PENDING' }, 'made durable');
      if (existing !== undefined) {
        const settled = this.#settled<T>(existing, options, log);
        if (settled !== undefined) return settled;
      }
      return await this.#waitForAck<T>({ ackArrived, store, subject, data, resendHeaders: pairs, messageId, schedule, timeoutMs, options, log, serviceName, span });
    } finally {
      if (ackTo !== undefined) this.#ackWaiters.delete(ackTo);
      sub?.unsubscribe();
    }
  }

  async #waitForAck<T>(w: {
    ackArrived: Promise<Uint8Array | undefined>; store: MessageStatusStore; subject: string; data: Uint8Array; resendHeaders: readonly string[];
    messageId: string; schedule: RetrySchedule; timeoutMs: number; options: ReliableCallOptions; log: () => Logger; serviceName: string; span: Span | undefined;
  }): Promise<T> {
    const deadline = Date.now() + w.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const waitMs = Math.min(w.schedule.ackTimeoutMs + retryDelayMs(w.schedule, attempt), deadline - Date.now());
      const outcome = await race(w.ackArrived, waitMs, w.options.signal);
      if (outcome.type === 'ack') {
        const ack = decode(outcome.data) as AckMessage;
        if (this.#options.logger.isLevelEnabled('debug')) w.log().debug({ event: 'ack_received', status: ack.status, duplicate: ack.duplicate, instance_id: ack.instance_id }, 'acknowledged');
        w.span?.addEvent('ipc.reliable.ack_received', { 'ipc.reliable.ack_status': ack.status, 'ipc.reliable.duplicate': ack.duplicate, 'ipc.instance_id': ack.instance_id });
        if (ack.status === 'failure') throw AegisError.fromWire(ack.error ?? { code: 'INTERNAL', message: ack.error_message ?? 'failed', status: 500, retryable: false });
        return this.#answer<T>(w.messageId, ack.response, ack.duplicate, w.options);
      }
      if (outcome.type === 'aborted') {
        throw new AegisError('CANCELLED', `stopped waiting for ${w.messageId}; the durable message is still processed (query its status)`, { details: { message_id: w.messageId } });
      }
      if (outcome.type === 'closed') throw new AegisError('CLOSED', 'the connection closed while waiting for the ACK', { details: { message_id: w.messageId } });
      // No ACK in time: it may have been lost — the status knows.
      const status = await w.store.recorded(w.messageId).catch(() => undefined);
      if (status !== undefined) {
        const settled = this.#settled<T>(status, w.options, w.log);
        if (settled !== undefined) return settled;
      }
      if (Date.now() >= deadline) {
        this.#metrics.ackTimeouts.inc({ service_name: w.serviceName });
        w.log().warn({ event: 'ack_timeout', state: status?.state ?? 'PENDING', waited_ms: w.timeoutMs }, 'no acknowledgement in time');
        throw new AegisError('ACK_TIMEOUT', `no acknowledgement for ${w.messageId} within ${w.timeoutMs} ms; it stays durable — query its status or call again with the same messageId`, {
          details: { message_id: w.messageId, timeout_ms: w.timeoutMs, state: status?.state ?? 'PENDING', retry_count: status?.retry_count ?? 0 },
        });
      }
      this.#metrics.retried.inc({ service_name: w.serviceName, side: 'caller' });
      w.log().info({ event: 'message_resent', attempt: attempt + 1 }, 'no ACK yet; re-sending the same message id');
      w.span?.addEvent('ipc.reliable.resend', { attempt: attempt + 1 });
      // Without `Ipc-First-Send`: a re-send is a second copy, its delivery must claim.
      const h = new NatsHeaderBlock(w.resendHeaders) as unknown as MsgHdrs;
      await this.#publish(w.subject, w.data, h).catch((err: unknown) => w.log().warn({ event: 'message_resend_failed', err }, 're-send failed'));
    }
  }

  /**
   * Publishes one copy of the request, expecting no other message on the id's subject, so no two
   * copies of one id are ever in the stream together. Returns whether a copy was already there
   * (JetStream's duplicate within the window, or a refused publish while the first waits).
   */
  async #publish(subject: string, data: Uint8Array, h: MsgHdrs): Promise<boolean> {
    // A plain publish awaiting the stream's PubAck (ADR 0023): no nats.js request machinery.
    this.#publisher ??= new JetStreamPublisher(this.#nc, PUBLISH_TIMEOUT_MS);
    try {
      return (await this.#publisher.publish(subject, data, h)).duplicate;
    } catch (err) {
      if (err instanceof JetStreamPublishError && err.apiCode === 10071) return true;
      throw err;
    }
  }

  /** The outcome recorded in a terminal status, or undefined while it is still pending. */
  #settled<T>(status: MessageStatus, options: ReliableCallOptions, log: () => Logger): Promise<T> | T | undefined {
    if (status.state === 'ACKNOWLEDGED') {
      if (this.#options.logger.isLevelEnabled('debug')) log().debug({ event: 'status_acknowledged' }, 'already acknowledged; answering from the status');
      return this.#answer<T>(status.message_id, status.response, true, options);
    }
    if (status.state === 'FAILED' || status.state === 'EXPIRED') {
      const wire: WireError = status.error ?? { code: status.state === 'EXPIRED' ? 'MESSAGE_EXPIRED' : 'INTERNAL', message: status.last_error ?? status.state, status: 500, retryable: false };
      throw AegisError.fromWire(wire);
    }
    return undefined;
  }

  #sentCounter(serviceName: string): BoundCounter {
    let bound = this.#sent.get(serviceName);
    if (bound === undefined) this.#sent.set(serviceName, (bound = this.#metrics.sent.bind({ service_name: serviceName })));
    return bound;
  }

  #answer<T>(messageId: string, response: unknown, duplicate: boolean, options: ReliableCallOptions): T {
    if (duplicate && options.onDuplicate === 'throw') {
      throw new AegisError('MESSAGE_DUPLICATE', `message ${messageId} was already processed`, { details: { message_id: messageId, original_response: response } });
    }
    return response as T;
  }
}

type RaceOutcome = { type: 'ack'; data: Uint8Array } | { type: 'timeout' } | { type: 'aborted' } | { type: 'closed' };

/** Outcomes without data, shared by every call. */
const TIMEOUT: RaceOutcome = Object.freeze({ type: 'timeout' });
const ABORTED: RaceOutcome = Object.freeze({ type: 'aborted' });
const CLOSED: RaceOutcome = Object.freeze({ type: 'closed' });

/** Waits for the next ACK, the timer or the signal — whichever comes first; the timer never floats. */
function race(next: Promise<Uint8Array | undefined>, waitMs: number, signal: AbortSignal | undefined): Promise<RaceOutcome> {
  if (signal?.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve) => {
    // An object with methods rather than named closures: nothing per call is renamed or re-created
    // beyond this one object (the signal takes it as an EventListenerObject).
    const wait = {
      timer: undefined as NodeJS.Timeout | undefined,
      handleEvent(): void {
        wait.done(ABORTED);
      },
      done(outcome: RaceOutcome): void {
        clearTimeout(wait.timer);
        signal?.removeEventListener('abort', wait);
        resolve(outcome);
      },
    };
    wait.timer = setTimeout(() => wait.done(TIMEOUT), Math.max(0, waitMs));
    wait.timer.unref();
    signal?.addEventListener('abort', wait, { once: true });
    next.then((data) => wait.done(data === undefined ? CLOSED : { type: 'ack', data }), () => wait.done(CLOSED));
  });
}
