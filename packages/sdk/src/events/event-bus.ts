/**
 * The event bus: `publish(topic, payload, { qos })` and `subscribe(topic, handler, { qos, group })`
 * over NATS JetStream or Redis Streams with the same promises on both (docs/events.md).
 *
 * @example
 * const bus = await createEventBus({ nats: nc, redis });
 * await bus.subscribe('orders.created', async (m) => ship(m.payload), { qos: 2, group: 'shipping' });
 * await bus.publish('orders.created', { id: 42 }, { qos: 2, messageId: orderId });
 */
import { AegisError, assertName, assertTopic, decode, encode, newMessageId } from '@aegis-ipc/protocol';
import type { NatsConnection } from '@nats-io/nats-core';
import { pino, type Logger } from 'pino';
import type { DedupeStore } from '../dedupe/dedupe-store.js';
import { KvDedupeStore } from '../dedupe/kv-dedupe-store.js';
import { RedisDedupeStore } from '../dedupe/redis-dedupe-store.js';
import { dedupeStage } from './dedupe-interceptor.js';
import { composeDelivery, errorText, retryPolicyInterceptor, type DeliveryInterceptor, type DeliveryNext, type Outcome } from './delivery.js';
import { resolveEventBusOptions, resolveSubscribeOptions, type EventBusOptions, type ResolvedEventBusOptions, type ResolvedSubscribeOptions } from './event-bus-options.js';
import { assertUserHeaders, envelopeHeaders } from './event-headers.js';
import { loggingInterceptor } from './event-logging.js';
import { eventMetrics, metricsInterceptor, type EventMetrics } from './event-metrics.js';
import type { EventTransport } from './event-transport.js';
import { tracedPublish, tracingInterceptor } from './event-tracing.js';
import { tracingActive } from '../tracing/tracing-active.js';
import { NatsTransport } from './nats-transport.js';
import { redisKeys } from './redis-keys.js';
import { RedisTransport } from './redis-transport.js';
import type { DeadLetter, EventHandler, PublishOptions, PublishResult, Qos, SubscribeOptions, EventSubscription, TopicGroupStats, TransportName } from './types.js';

/** Longest accepted caller-supplied message id. */
export const MAX_MESSAGE_ID_LENGTH = 128;

/** Publish/subscribe with QoS 0/1/2 over NATS and Redis. Start it (or use {@link createEventBus}). */
export class EventBus {
  readonly options: ResolvedEventBusOptions;
  private readonly logger: Logger;
  private readonly metrics: EventMetrics;
  private readonly transports = new Map<TransportName, EventTransport>();
  private readonly subscriptions = new Set<EventSubscription>();
  private readonly dedupeStores = new Map<TransportName, Promise<DedupeStore>>();
  private readonly validTopics = new Set<string>();
  /** Bound `published` counters per topic, indexed by transport and QoS (see publishedCounter). */
  private readonly publishedCounters = new Map<string, Array<{ inc(): void } | undefined>>();
  private starting: Promise<void> | undefined;
  private started = false;
  private closed = false;
  private removeStatsSource: (() => void) | undefined;

  /** @throws AegisError `CONFIG_INVALID` */
  constructor(options: EventBusOptions) {
    this.options = resolveEventBusOptions(options);
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'events' });
    this.metrics = eventMetrics(options.registry);
    if (options.nats !== undefined) this.transports.set('nats', new NatsTransport(options.nats, this.options, this.logger));
    if (options.redis !== undefined) this.transports.set('redis', new RedisTransport(options.redis, this.options, this.logger));
  }

  /**
   * Creates or updates streams (idempotent) and checks Redis persistence. Safe to call twice.
   * @throws AegisError `STORAGE_FAILURE` when JetStream is unavailable.
   */
  start(): Promise<void> {
    this.starting ??= (async () => {
      for (const transport of this.transports.values()) await transport.start();
      this.removeStatsSource = this.metrics.addStatsSource(() => this.stats());
      this.started = true;
    })();
    return this.starting;
  }

  /**
   * Publishes `payload` (any MessagePack-encodable value) to `topic`. Resolves once the broker
   * accepted it for QoS 1/2 (server ack / XADD reply); QoS 0 resolves after handing it over.
   * @throws AegisError `INVALID_NAME` (topic, message id, header), `PAYLOAD_TOO_LARGE` (checked
   * against the NATS server `max_payload` before sending), `PUBLISH_FAILED`, `CLOSED`.
   */
  async publish(topic: string, payload: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    if (!this.started) await this.start();
    this.assertOpen();
    if (!this.validTopics.has(topic)) {
      assertTopic(topic);
      // Publishers reuse a handful of topics: validate each once (bounded, so hostile input cannot grow it).
      if (this.validTopics.size < 10_000) this.validTopics.add(topic);
    }
    const qos = options.qos ?? 1;
    assertQos(qos);
    if (options.messageId !== undefined) assertName('messageId', options.messageId, MAX_MESSAGE_ID_LENGTH);
    // QoS 2 needs an id before the publish (it is the dedupe key) and QoS 0 is never stored;
    // a QoS 1 event without the caller's id is identified by its broker position (ADR 0025).
    const messageId = options.messageId ?? (qos === 1 ? undefined : newMessageId());
    assertUserHeaders(options.headers);
    const transport = this.transport(options.transport);
    const data = encode(payload);
    // A QoS 2 id made here is known to nobody else until this publish returns: NATS receivers
    // may run its first delivery before claiming it (ADR 0026). Redis receivers always claim
    // first, so there the mark would be bytes for nothing.
    const envelope = envelopeHeaders(messageId, qos, options.key, options.messageId === undefined && transport.name === 'nats');
    const result = tracingActive()
      ? await tracedPublish({ transport: transport.name, topic, qos }, (traceHeaders) =>
          // Trace headers go after the user's: with tracing on, the publish span is the parent.
          transport.publish({ topic, qos, messageId, headers: { ...options.headers, ...traceHeaders, ...envelope }, data }),
        )
      : await transport.publish({ topic, qos, messageId, headers: options.headers === undefined ? envelope : { ...options.headers, ...envelope }, data });
    if (!result.duplicate) this.publishedCounter(transport.name, topic, qos).inc();
    return result;
  }

  /**
   * Runs `handler` for every event on `topic` delivered to `group`. Returning acknowledges; throwing
   * retries with backoff up to `maxDeliver` attempts, then the event is dead-lettered. Throw an
   * `AegisError` with `retryable: false` to dead-letter at once.
   * @throws AegisError `INVALID_NAME` (topic, group), `CONFIG_INVALID`, `STORAGE_FAILURE`, `CLOSED`.
   */
  async subscribe<T = unknown>(topic: string, handler: EventHandler<T>, options: SubscribeOptions = {}): Promise<EventSubscription> {
    if (!this.started) await this.start();
    this.assertOpen();
    const resolved = resolveSubscribeOptions(topic, options, this.options);
    const transport = this.transport(resolved.transport);
    const { interceptors, drain, sweep } = await this.interceptors(topic, resolved);
    const pipeline = composeDelivery(interceptors, terminal(handler, resolved));
    const subscription = await transport.subscribe(topic, resolved, pipeline, { sweep });
    let closed: Promise<void> | undefined;
    const close = () =>
      (closed ??= (async () => {
        this.subscriptions.delete(wrapped);
        await subscription.close();
        await drain();
      })());
    const wrapped: EventSubscription = { topic, group: resolved.group, transport: resolved.transport, close, [Symbol.asyncDispose]: close };
    this.subscriptions.add(wrapped);
    return wrapped;
  }

  /** Pending and lag per topic and group, from the broker. */
  async stats(transport?: TransportName): Promise<TopicGroupStats[]> {
    const out: TopicGroupStats[] = [];
    for (const t of this.transports.values()) if (transport === undefined || t.name === transport) out.push(...(await t.stats()));
    return out;
  }

  /** The oldest `limit` dead letters of a transport. */
  deadLetters(options: { transport?: TransportName; limit?: number } = {}): Promise<DeadLetter[]> {
    return this.transport(options.transport).deadLetters(options.limit ?? 100);
  }

  /** Re-publishes a dead letter to its topic and removes it; false when no such id. */
  replay(id: string, options: { transport?: TransportName } = {}): Promise<boolean> {
    return this.transport(options.transport).replay(id);
  }

  /** Replays every dead letter (in batches of 100); returns how many were replayed. */
  async replayAll(options: { transport?: TransportName } = {}): Promise<number> {
    let replayed = 0;
    for (let round = 0; round < 10_000; round++) {
      const batch = await this.deadLetters({ ...options, limit: 100 });
      if (batch.length === 0) break;
      for (const dl of batch) if (await this.replay(dl.id, options)) replayed++;
    }
    return replayed;
  }

  /** Closes every subscription (in-flight handlers finish). Connections stay open: they are the caller's. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.removeStatsSource?.();
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    this.subscriptions.clear();
    await Promise.all([...this.transports.values()].map((t) => t.close()));
    // Stores the bus opened itself (not the caller's) release their publish listener.
    for (const [transport, store] of this.dedupeStores) {
      if (this.options.dedupe?.[transport] !== undefined) continue;
      const opened = await store.catch(() => undefined);
      if (opened instanceof KvDedupeStore) await opened.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** A topic's counters live in one small array: no key string is built per publish. */
  private publishedCounter(transport: TransportName, topic: string, qos: Qos): { inc(): void } {
    let byTopic = this.publishedCounters.get(topic);
    if (byTopic === undefined) {
      byTopic = [];
      if (this.publishedCounters.size < 10_000) this.publishedCounters.set(topic, byTopic);
    }
    const at = (transport === 'nats' ? 0 : 3) + qos;
    return (byTopic[at] ??= this.metrics.published.bind({ transport, topic, qos: String(qos) }));
  }

  private assertOpen(): void {
    if (this.closed) throw new AegisError('CLOSED', 'the event bus is closed');
  }

  private transport(name: TransportName | undefined): EventTransport {
    const transport = this.transports.get(name ?? this.options.defaultTransport);
    if (transport === undefined) {
      throw new AegisError('CONFIG_INVALID', `transport ${String(name)} has no connection on this event bus`, { details: { transport: String(name) } });
    }
    return transport;
  }

  private async interceptors(
    topic: string,
    sub: ResolvedSubscribeOptions,
  ): Promise<{ interceptors: DeliveryInterceptor[]; drain: () => Promise<void>; sweep?: (now: number) => void }> {
    // Bound once per subscription: pino serialises a child's bindings when it is made, not per line.
    const log = this.logger.child({ transport: sub.transport, topic, group: sub.group });
    const chain: DeliveryInterceptor[] = [tracingInterceptor(), metricsInterceptor(this.metrics), loggingInterceptor(log)];
    if (sub.qos === 0) return { interceptors: chain, drain: () => Promise.resolve() };
    chain.push(retryPolicyInterceptor(sub));
    if (sub.qos === 2) {
      const stage = dedupeStage({
        store: await this.dedupeStore(sub.transport),
        // The lease must outlive the broker's own redelivery timer, or a slow handler's
        // redelivery would find the lease gone and run the handler a second time.
        leaseMs: Math.max(this.options.ackWaitMs, this.options.claimIdleMs),
        ttlMs: this.options.dedupeTtlMs,
        onError: (err, what) => log.warn({ event: 'event_dedupe_store_failed', err, what }, 'QoS 2 dedupe store failure'),
        onLeaseLost: (key, reason) => {
          this.metrics.leaseLost.bind({ transport: sub.transport, topic, group: sub.group }).inc();
          // The key is `<topic>.<group>.<dedupe id>` (dedupeKey): the id is the message id, or its
          // broker position plus stored time for a NATS event published without one (ADR 0025).
          const dedupeId = key.slice(topic.length + sub.group.length + 2);
          log.warn({ event: 'event_dedupe_lease_lost', dedupe_id: dedupeId, reason }, 'QoS 2 dedupe lease lost while the handler ran; another copy may run beside it (ADR 0027)');
        },
      });
      chain.push(stage.interceptor);
      // The lease outlives ack_wait and claimIdleMs; the subscription's sweep renews it (ADR 0027).
      return { interceptors: chain, drain: () => stage.drain(), sweep: stage.sweep };
    }
    return { interceptors: chain, drain: () => Promise.resolve() };
  }

  private dedupeStore(transport: TransportName): Promise<DedupeStore> {
    let store = this.dedupeStores.get(transport);
    if (store === undefined) {
      const given = this.options.dedupe?.[transport];
      if (given !== undefined) store = Promise.resolve(given);
      else if (transport === 'nats') {
        store = KvDedupeStore.open(this.options.nats as NatsConnection, {
          bucket: `${this.options.stream}_DEDUPE`,
        ttlMs: this.options.dedupeTtlMs,
          replicas: this.options.replicas,
        });
      } else store = Promise.resolve(new RedisDedupeStore(this.options.redis!, { keyPrefix: redisKeys(this.options.redisKeyPrefix).dedupe }));
      this.dedupeStores.set(transport, store);
    }
    return store;
  }
}

/** Creates and starts an {@link EventBus}. @throws AegisError `CONFIG_INVALID`, `STORAGE_FAILURE` */
export async function createEventBus(options: EventBusOptions): Promise<EventBus> {
  const bus = new EventBus(options);
  await bus.start();
  return bus;
}

function assertQos(qos: unknown): asserts qos is Qos {
  if (qos !== 0 && qos !== 1 && qos !== 2) {
    throw new AegisError('CONFIG_INVALID', `qos must be 0, 1 or 2, got ${String(qos)}`, { details: { option: 'qos', value: String(qos) } });
  }
}

/** Outcomes are never mutated: one shared object per success instead of one per event. */
const ACK: Outcome = Object.freeze({ type: 'ack' });

/** Decodes the payload and calls the user's handler: the end of the delivery pipeline. */
function terminal<T>(handler: EventHandler<T>, sub: ResolvedSubscribeOptions): DeliveryNext {
  return async (delivery) => {
    let payload: T;
    try {
      payload = decode(delivery.data) as T;
    } catch (err) {
      return { type: 'fail', error: errorText(err), retryable: false }; // no retry makes bad bytes good
    }
    try {
      await handler({
        topic: delivery.topic,
        payload,
        messageId: delivery.messageId,
        key: delivery.key,
        headers: delivery.headers,
        qos: delivery.qos,
        deliveryCount: delivery.deliveryCount,
        transport: delivery.transport,
        group: sub.group,
      });
      return ACK;
    } catch (err) {
      return { type: 'fail', error: errorText(err), retryable: !(err instanceof AegisError && !err.retryable) };
    }
  };
}
