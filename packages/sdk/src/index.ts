/**
 * `@aegis-ipc/sdk` — what a service or caller imports: connect, register, serve, call.
 *
 * @example
 * import { connect } from '@aegis-ipc/sdk';
 * const client = await connect();
 * const instance = await client.register('billing', 'billing-1', { zone: 'eu-1' });
 * // … heartbeats run in the background …
 * await client.close(); // unregisters (OFFLINE) and drains the connection
 */
export { connect, AegisClient, type RegisterOptions } from './client/aegis-client.js';
export { resolveClientOptions, DEFAULT_REQUEST_TIMEOUT_MS, type ClientOptions, type ResolvedClientOptions } from './client/client-options.js';
export { ServiceInstance } from './instance/service-instance.js';
export { MethodTable, type MethodHandler } from './instance/method-table.js';
export type { CallContext } from './instance/call-context.js';
export { DEFAULT_CALL_TIMEOUT_MS, CALL_REPLY_GRACE_MS, DEFAULT_CALL_RETRY, resolveCallRetry, type CallOptions, type CallRetryOptions, type ResolvedCallRetry } from './call/call-options.js';
export { withRetry, isRetryable, isConnectionFailure, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry/retry-policy.js';
export { requestReply, assertFitsPayload } from './transport/request-reply.js';
export { fromNatsError } from './transport/nats-error.js';
export { ReplyMux, AttemptFailed, type AttemptFailure } from './transport/reply-mux.js';
export { guardedCallback, type NatsCallback } from './transport/guarded-callback.js';
export { FoldedCounter, type BoundCounter } from './metrics/folded-counter.js';
export { FoldedHistogram, type BoundObserver } from './metrics/folded-histogram.js';
export { JetStreamPublisher, JetStreamPublishError, type PubAck } from './jetstream/jetstream-publisher.js';
export { AegisError, isAegisError, type ErrorCode } from '@aegis-ipc/protocol';
// Events (issue 5): QoS 0/1/2 publish/subscribe on NATS JetStream and Redis Streams.
export { EventBus, createEventBus, MAX_MESSAGE_ID_LENGTH } from './events/event-bus.js';
export { EVENT_BUS_DEFAULTS, resolveEventBusOptions, type EventBusOptions, type ResolvedEventBusOptions } from './events/event-bus-options.js';
export {
  QOS,
  TRANSPORTS,
  type Qos,
  type TransportName,
  type PublishOptions,
  type PublishResult,
  type SubscribeOptions,
  type EventMessage,
  type EventHandler,
  type EventSubscription,
  type TopicGroupStats,
  type DeadLetter,
} from './events/types.js';
export { eventMetrics, type EventMetrics } from './events/event-metrics.js';
export type { DedupeStore, ClaimResult, DedupeLease, DedupePeek } from './dedupe/dedupe-store.js';
export { KvDedupeStore, DEFAULT_KV_DEDUPE_BUCKET, DEFAULT_DEDUPE_TTL_MS, type KvDedupeStoreOptions } from './dedupe/kv-dedupe-store.js';
export { RedisDedupeStore, DEFAULT_REDIS_DEDUPE_PREFIX, type RedisDedupeStoreOptions } from './dedupe/redis-dedupe-store.js';
export { EVENT_SETTINGS, resolveEventSettings, type EventSettings } from './events/event-settings.js';
export { openEventBus, type OpenedEventBus } from './events/open-event-bus.js';
// Exactly-once calls (issue 4): callReliable's caller, receivers, status, dead letters, replay.
export * from './reliable/index.js';
// Tracing (OBS-2): OpenTelemetry context through NATS headers; spans only when a provider is registered.
export { tracer, inSpan, tracingActive, injectTraceContext, extractTraceContext, injectTraceContextInto, extractTraceContextFrom, TRACER_NAME } from './tracing/index.js';
