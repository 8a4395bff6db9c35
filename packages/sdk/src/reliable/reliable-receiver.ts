/**
 * The receiving side of exactly-once calls: one instance's reader of its service's durable
 * consumer (all instances share it — work queue). Per delivery: expired? past its deliveries?
 * → park; otherwise the idempotency guard runs the handler once per message id, the status
 * becomes ACKNOWLEDGED with the response, the broker ack is sent, then the EO-2 ACK. Retryable
 * failures are nak'ed with the backoff delay; the broker's `ack_wait`/`backoff`/`max_deliver`
 * redeliver what a crashed instance never acked, while a live one's running handlers keep their
 * message (`working()`) and lease ({@link InFlightSweep}, ADR 0027).
 *
 * @example
 * const instance = await client.register('billing', 'billing-1');
 * instance.handle('charge', async (params, ctx) => { await inboxTransaction(ctx).query(…); return { ok: true } });
 * const receiver = await ReliableReceiver.start(instance, { idempotency: { pool } });
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { AegisError, HEADERS, decode, newTraceId, toAegisError } from '@aegis-ipc/protocol';
import type { ServiceInstance } from '../instance/service-instance.js';
import { ConcurrencyLimiter } from '../events/concurrency-limiter.js';
import { ackPositionOf } from '../jetstream/ack-subject.js';
import { extractTraceContext, tracer, tracingActive } from '../tracing/index.js';
import { crashAfterEffect } from './crash-hook.js';
import type { IdempotencyGuard } from './idempotency-guard.js';
import { migrateInbox } from './inbox/migrate-inbox.js';
import { MessageStatusStore, type MessageStatus } from './message-status.js';
import { OutcomeRecorder, newStatus, type DeliveryOutcome, type StatusBase } from './outcome-recorder.js';
import type { ReliableCallContext } from './reliable-call-context.js';
import { selectGuard } from './select-guard.js';
import { reliableMetrics, type ReliableMetrics } from './reliable-metrics.js';
import { retryDelayMs } from './reliable-options.js';
import { readRequestHeaders } from './request-headers.js';
import { lazyChild } from './lazy-child.js';
import { InFlightSweep } from './in-flight-sweep.js';
import { RELIABLE_STREAM, ensureReliableStreams, ensureServiceConsumer, parseReliableSubject } from './reliable-topology.js';
import { resolveReceiverOptions, warnOnShortTtl, type ReliableReceiverOptions, type ResolvedReceiverOptions } from './receiver-options.js';

export class ReliableReceiver implements AsyncDisposable {
  readonly #instance: ServiceInstance;
  readonly #options: ResolvedReceiverOptions;
  readonly #guard: IdempotencyGuard;
  readonly #status: MessageStatusStore;
  readonly #js: JetStreamClient;
  readonly #metrics: ReliableMetrics;
  readonly #log: Logger;
  readonly #limiter: ConcurrencyLimiter;
  readonly #closing = new AbortController();
  #messages: Awaited<ReturnType<Awaited<ReturnType<JetStreamClient['consumers']['get']>>['consume']>> | undefined;
  #sweep: InFlightSweep | undefined;
  #loop: Promise<void> | undefined;
  #closed: Promise<void> | undefined;
  readonly #outcomes: OutcomeRecorder;

  private constructor(instance: ServiceInstance, options: ResolvedReceiverOptions, guard: IdempotencyGuard, status: MessageStatusStore, log: Logger) {
    this.#instance = instance;
    this.#options = options;
    this.#guard = guard;
    this.#status = status;
    this.#js = jetstream(instance.nc);
    this.#metrics = reliableMetrics(options.registry);
    this.#log = log;
    this.#limiter = new ConcurrencyLimiter(options.concurrency);
    this.#outcomes = new OutcomeRecorder(instance.nc, this.#js, instance.instanceId, status, guard, options, this.#metrics, log);
  }

  /**
   * Creates (or updates) the streams and the service's consumer, migrates the inbox table when
   * a pool is given, and starts consuming with `instance`'s method table.
   * @throws AegisError `CONFIG_INVALID` for bad options, `STORAGE_FAILURE` when JetStream or
   * PostgreSQL is unavailable.
   */
  static async start(instance: ServiceInstance, options: ReliableReceiverOptions, logger?: Logger): Promise<ReliableReceiver> {
    const resolved = resolveReceiverOptions(options);
    // The client's logger unless told otherwise (as documented): a pino of its own here ignored
    // the level and destination the application gave connect().
    const log = (resolved.logger ?? logger ?? instance.logger).child({
      subsystem: 'reliable-receiver', service_name: instance.serviceName, instance_id: instance.instanceId,
    });
    const idem = resolved.idempotency;
    try {
      if ('pool' in idem) await migrateInbox(idem.pool);
      const jsm = await jetstreamManager(instance.nc);
      await ensureReliableStreams(jsm, resolved.duplicateWindowMs);
      const status = await MessageStatusStore.open(instance.nc, resolved.statusTtlMs);
      const guard = selectGuard(resolved, instance.serviceName, status, log);
      warnOnShortTtl(resolved, guard, log);
      const consumerName = await ensureServiceConsumer(jsm, instance.serviceName, resolved.schedule, Math.max(1000, resolved.concurrency * 8));
      const receiver = new ReliableReceiver(instance, resolved, guard, status, log);
      await receiver.#consume(consumerName);
      log.info({ event: 'reliable_receiver_started', consumer: consumerName, idempotency: guard.kind }, 'consuming exactly-once calls');
      return receiver;
    } catch (err) {
      throw err instanceof AegisError ? err : new AegisError('STORAGE_FAILURE', `cannot start the reliable receiver of ${instance.serviceName}: ${(err as Error).message}`, { cause: err });
    }
  }

  async #consume(consumerName: string): Promise<void> {
    const consumer = await this.#js.consumers.get(RELIABLE_STREAM, consumerName);
    // Short pull expiry: on NATS 2.9 a SIGKILLed instance's open pull requests keep receiving
    // (and burning) redeliveries until they expire — the 30 s default would eat max_deliver.
    const expires = Math.min(30_000, Math.max(1_000, this.#options.schedule.ackTimeoutMs));
    const messages = await consumer.consume({ max_messages: Math.max(this.#options.concurrency * 2, 8), expires });
    this.#messages = messages;
    const sweep = (this.#sweep = new InFlightSweep(this.#options.schedule.ackTimeoutMs, this.#guard.sweep));
    this.#loop = (async () => {
      for await (const msg of messages) {
        if (this.#closing.signal.aborted) {
          msg.nak(); // hand buffered messages back now instead of after ack_wait
          continue;
        }
        if (this.#limiter.full) await this.#limiter.slot();
        this.#limiter.run(() => sweep.track(msg, () => this.#handle(msg)), (err) => this.#log.error({ event: 'message_delivery_failed', err, seq: msg.seq }, 'reliable delivery failed'));
      }
    })();
  }

  /** One delivery; with a tracer provider registered, inside an `ipc.reliable.deliver` span. */
  #handle(msg: JsMsg): Promise<void> {
    if (!tracingActive()) return this.#deliver(msg) as Promise<unknown> as Promise<void>;
    const parent = extractTraceContext(msg.headers);
    const span = tracer().startSpan(
      'ipc.reliable.deliver',
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'ipc.message_id': msg.headers?.get(HEADERS.messageId) ?? '',
          'ipc.reliable.delivery_count': msg.info.deliveryCount,
          'ipc.service_name': this.#instance.serviceName,
          'ipc.instance_id': this.#instance.instanceId,
          'messaging.system': 'nats',
          'messaging.destination.name': msg.subject,
        },
      },
      parent,
    );
    return context.with(trace.setSpan(parent, span), () => this.#deliver(msg)).then(
      (outcome) => {
        span.setAttribute('ipc.reliable.outcome', outcome);
        if (outcome === 'failed' || outcome === 'dead_lettered' || outcome === 'expired') span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      },
      (err: unknown) => {
        span.setAttribute('ipc.reliable.outcome', 'error');
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        span.end();
        throw err;
      },
    );
  }

  /** Processes one delivery; returns what became of it (the span's `ipc.reliable.outcome`). */
  async #deliver(msg: JsMsg): Promise<DeliveryOutcome> {
    const started = performance.now();
    const target = parseReliableSubject(msg.subject);
    const h = readRequestHeaders(msg);
    const messageId = h.messageId;
    const traceId = h.traceId || newTraceId();
    const deliveryCount = ackPositionOf(msg).deliveryCount;
    // The delivery's logger is made only when something is logged (a pino child per delivery is not free).
    const log = lazyChild(this.#log, { message_id: messageId, trace_id: traceId });
    if (target === undefined || messageId === '') {
      log().error({ event: 'message_malformed', subject: msg.subject, seq: msg.seq }, 'malformed reliable request; terminated');
      msg.term();
      return 'malformed';
    }
    const { serviceName, method } = target;
    const schedule = this.#options.schedule;
    const callerCap = Number(h.maxDeliveries || Infinity);
    const maxDeliveries = Math.min(schedule.maxRetries + 1, callerCap > 0 ? callerCap : Infinity);
    const base: StatusBase = {
      message_id: messageId, service_name: serviceName, method, trace_id: traceId,
      created_at: h.createdAt || msg.time.toISOString(),
      replays: Number(h.replays || 0),
    };
    const expiresAt = Number(h.expiresAt || 0);
    if (expiresAt > 0 && Date.now() > expiresAt) {
      // A redelivery past the ttl may be of a message processed before (only its broker ack was
      // lost): never turn ACKNOWLEDGED into EXPIRED.
      const previous = deliveryCount > 1 ? await this.#status.recorded(messageId).catch(() => undefined) : undefined;
      if (previous?.state === 'ACKNOWLEDGED') {
        this.#metrics.duplicates.inc({ service_name: serviceName });
        msg.ack();
        this.#outcomes.publishAck(h.ackTo, base, 'success', started, true, previous.response, undefined, null);
        return 'duplicate';
      }
      // Expired while another delivery runs the id (a copy published with its own ttl): that run's
      // outcome answers, not EXPIRED beside it (ADR 0027, round 3, as for spent retries below).
      const held = await this.#heldElsewhere(messageId, serviceName, log);
      if (held !== false) return this.#dropCopy(msg, held, serviceName, deliveryCount, log);
      const error = new AegisError('MESSAGE_EXPIRED', `message ${messageId} expired at ${new Date(expiresAt).toISOString()} before it was processed`, { details: { message_id: messageId, expires_at: expiresAt } });
      return (await this.#outcomes.finish(msg, h.ackTo, base, 'EXPIRED', error, deliveryCount, started, log)) ?? 'expired';
    }
    if (deliveryCount > maxDeliveries) {
      const previous = await this.#status.get(messageId).catch(() => undefined);
      if (previous?.state === 'ACKNOWLEDGED') {
        // Processed; only the broker acks were lost. Never turn a processed message FAILED.
        log().info({ event: 'spare_delivery_acknowledged' }, 'spare delivery of a processed message; acknowledging');
        msg.ack();
        return 'duplicate';
      }
      // A copy of the id (its own stream message) that waited `busy` behind a running handler
      // until its deliveries ran out is not the message's outcome: the holder's ACK answers every
      // waiter, and if the holder dies its own message is redelivered and finishes or parks the id.
      // Parking here said FAILED while the handler ran (ADR 0027, round 3).
      const held = await this.#heldElsewhere(messageId, serviceName, log);
      if (held !== false) return this.#dropCopy(msg, held, serviceName, deliveryCount, log);
      const why = previous?.last_error ?? `no acknowledgement after ${deliveryCount - 1} deliveries`;
      return this.#outcomes.park(msg, base, new AegisError('ACK_TIMEOUT', `retries exhausted: ${why}`, { retryable: false, details: { message_id: messageId, deliveries: deliveryCount - 1 } }), started, log);
    }
    const ownRecord = this.#guard.kind === 'status'; // the claim records the retry and the error itself
    if (deliveryCount > 1) {
      this.#metrics.retried.inc({ service_name: serviceName, side: 'receiver' });
      log().info({ event: 'message_retry', delivery: deliveryCount }, 'redelivered');
    }
    if (deliveryCount > 1 && !ownRecord) {
      await this.#status
        .updateUnlessTerminal(messageId, (cur) => ({ ...(cur ?? newStatus(base, new Date().toISOString())), state: 'PENDING', retry_count: deliveryCount - 1, updated_at: new Date().toISOString() }))
        .catch((err: unknown) => log().warn({ event: 'message_retry_record_failed', err }, 'could not record the retry'));
    }
    let result;
    try {
      let params: Record<string, unknown>;
      try {
        params = (decode(msg.data) ?? {}) as Record<string, unknown>;
      } catch (err) {
        throw toAegisError(err);
      }
      const instanceId = this.#instance.instanceId;
      const pending = ownRecord ? (): MessageStatus => ({ ...newStatus(base, new Date().toISOString()), retry_count: deliveryCount - 1, instance_id: instanceId }) : undefined;
      const onlyCopy = deliveryCount === 1 && h.firstSend === '1';
      result = await this.#guard.run(
        { messageId, serviceName, pending, onlyCopy },
        (tx) => {
          const ctx: ReliableCallContext = {
            traceId, messageId, serviceName, instanceId: this.#instance.instanceId, method, attempt: deliveryCount, deliveryCount, tx,
            signal: this.#closing.signal,
          };
          return this.#instance.methods.invoke(method, params, ctx);
        },
        () => crashAfterEffect(deliveryCount),
      );
    } catch (err) {
      // Not an AegisError: the inbox/dedupe store or decoding failed — infrastructure, retry.
      const error: AegisError = err instanceof AegisError ? (err as AegisError) : new AegisError('STORAGE_FAILURE', `processing ${messageId} failed: ${(err as Error).message}`, { cause: err });
      if (error.retryable && deliveryCount < maxDeliveries) {
        const delay = retryDelayMs(schedule, deliveryCount);
        log().warn({ event: 'message_retry_scheduled', err: error.toWire(), delivery: deliveryCount, delay_ms: delay }, 'handler failed; will retry');
        if (!ownRecord) {
          await this.#status
            .updateUnlessTerminal(messageId, (cur) => ({ ...(cur ?? newStatus(base, new Date().toISOString())), last_error: `${error.code}: ${error.message}`, updated_at: new Date().toISOString() }))
            .catch(() => undefined);
        }
        msg.nak(delay);
        return 'failed';
      }
      return this.#outcomes.park(msg, base, error, started, log);
    }
    if (result.kind === 'busy') {
      log().debug({ event: 'dedupe_busy', retry_after_ms: result.retryAfterMs }, 'another instance holds this message');
      msg.nak(result.retryAfterMs);
      return 'busy';
    }
    if (result.kind === 'terminal') {
      // Ended FAILED/EXPIRED before (only the term was lost, or a re-send after the window): say so again.
      log().info({ event: 'terminal_redelivery', state: result.status.state }, 'already terminal; not processed again');
      msg.term();
      this.#outcomes.publishAck(h.ackTo, base, 'failure', started, false, undefined, result.status.error ?? undefined, result.status.last_error);
      return 'duplicate';
    }
    const duplicate = result.kind === 'duplicate';
    if (duplicate) {
      this.#metrics.duplicates.inc({ service_name: serviceName });
      this.#metrics.cacheHits.inc({ service_name: serviceName });
      log().info({ event: 'dedupe_hit', delivery: deliveryCount }, 'duplicate; answering with the stored response');
    } else {
      this.#outcomes.bound(serviceName).cacheMisses.inc();
      if (this.#log.isLevelEnabled('debug')) log().debug({ event: 'dedupe_miss' }, 'processed');
    }
    const outcome = await this.#outcomes.finish(msg, h.ackTo, base, 'ACKNOWLEDGED', undefined, deliveryCount, started, log, result.response, duplicate, undefined, result.kind === 'processed' ? result : undefined);
    return outcome ?? (duplicate ? 'duplicate' : 'acknowledged');
  }

  /** Whether another delivery holds the id's live lease (a delivery past its retries holds none); undefined when the guard cannot tell now. */
  async #heldElsewhere(messageId: string, serviceName: string, log: () => Logger): Promise<boolean | undefined> {
    if (this.#guard.held === undefined) return false;
    try {
      return await this.#guard.held(messageId, serviceName);
    } catch (err) {
      log().warn({ event: 'lease_check_failed', err }, 'could not read whether another delivery holds this message; looking again');
      return undefined;
    }
  }

  /**
   * Terms a copy that ran out of deliveries (or expired) behind a live lease: no status write, no
   * ACK (the holder answers). `held` undefined — the guard could not tell — never parks on a
   * guess: the delivery is nak'ed and looked at again (past `max_deliver`, the router's watcher).
   */
  #dropCopy(msg: JsMsg, held: true | undefined, serviceName: string, deliveryCount: number, log: () => Logger): DeliveryOutcome {
    if (held === undefined) {
      msg.nak(1000);
      return 'failed';
    }
    msg.term();
    this.#metrics.copiesDropped.inc({ service_name: serviceName });
    log().info({ event: 'copy_dropped_while_held', delivery: deliveryCount, seq: msg.seq }, 'a copy of a message another delivery is running ran out of deliveries or expired; dropped, the running one answers');
    return 'copy_dropped';
  }

  /** Stops taking messages, waits for running handlers, hands buffered messages back. Idempotent. */
  close(): Promise<void> {
    return (this.#closed ??= (async () => {
      this.#closing.abort();
      await this.#limiter.idle();
      await this.#messages?.close();
      await this.#loop;
      await this.#limiter.idle();
      this.#sweep?.close(); // only now: a handler close() waited for kept its message and lease
    })());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
