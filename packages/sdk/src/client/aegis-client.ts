/**
 * The AegisIPC client: one NATS connection shared by everything a process does — registering
 * instances, calling services, publishing and subscribing.
 */
import { connect as natsConnect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { pino, type Logger } from 'pino';
import {
  AegisError,
  SUBJECTS,
  assertName,
  type RegisterReply,
} from '@aegis-ipc/protocol';
import { ServiceInstance } from '../instance/service-instance.js';
import { requestReply } from '../transport/request-reply.js';
import { fromNatsError } from '../transport/nats-error.js';
import { ReplyMux } from '../transport/reply-mux.js';
import { isConnectionFailure, withRetry, type RetryPolicy } from '../retry/retry-policy.js';
import { resolveClientOptions, type ClientOptions, type ResolvedClientOptions } from './client-options.js';
import { callService } from '../call/call-service.js';
import type { CallOptions } from '../call/call-options.js';
import { ReliableCaller, type ReliableCallOptions } from '../reliable/reliable-caller.js';
import { EventBus } from '../events/event-bus.js';
import type { EventHandler, EventSubscription, PublishOptions, PublishResult, SubscribeOptions } from '../events/types.js';

/** Options of one `register()` call. */
export interface RegisterOptions {
  /** Reply timeout per attempt (ms). @default the client's requestTimeoutMs (5000) */
  readonly timeoutMs?: number;
  /** Retry policy for connection failures (no router listening; a timeout is not retried). @default the client's (3 retries, exponential backoff) */
  readonly retry?: RetryPolicy;
  readonly signal?: AbortSignal;
}

export class AegisClient implements AsyncDisposable {
  readonly nc: NatsConnection;
  readonly logger: Logger;
  /** Identifies this process's registrations: a re-registration with it is idempotent (REG-4). */
  readonly sessionId = globalThis.crypto.randomUUID();
  readonly #options: ResolvedClientOptions;
  readonly #ownsConnection: boolean;
  readonly #instances = new Set<ServiceInstance>();
  #closed = false;
  #reliable: ReliableCaller | undefined;
  /** One reply subscription for every `call()` of this client. */
  #replies: ReplyMux | undefined;
  #events: EventBus | undefined;

  private constructor(nc: NatsConnection, options: ResolvedClientOptions) {
    this.nc = nc;
    this.#options = options;
    this.#ownsConnection = options.nc === undefined;
    this.logger = options.logger ?? pino({ name: 'aegis-sdk', level: process.env.AEGIS_LOG_LEVEL ?? 'warn' });
  }

  /**
   * Connects to NATS.
   * @throws AegisError `CONNECTION_FAILED` when no server answers; `CONFIG_INVALID` for bad options.
   */
  static async connect(options: ClientOptions = {}): Promise<AegisClient> {
    const resolved = resolveClientOptions(options);
    let nc = resolved.nc;
    if (nc === undefined) {
      try {
        // noAsyncTraces: nats.js otherwise builds two Error objects (stack captures) per request
        // only to decorate a possible failure; we add the call's own context to errors (ADR 0031).
        nc = await natsConnect({ servers: [...resolved.servers], name: resolved.name, maxReconnectAttempts: -1, noAsyncTraces: true });
      } catch (err) {
        throw new AegisError('CONNECTION_FAILED', `cannot connect to NATS at ${resolved.servers.join(', ')}: ${(err as Error).message}`, { cause: err });
      }
    }
    return new AegisClient(nc, resolved);
  }

  /** Resolved options, for features layered on the client. */
  get options(): ResolvedClientOptions {
    return this.#options;
  }

  /**
   * Registers an instance of `serviceName` (REG-1) and starts its heartbeats.
   * @throws AegisError `INVALID_NAME`/`VALIDATION_FAILED` (400), `REGISTRATION_CONFLICT` (409),
   * `TIMEOUT` (504) when the router does not answer within `timeoutMs` (not retried), or
   * `CONNECTION_FAILED` when no router is listening, after `retry.retries` retries with
   * exponential backoff (REG-4).
   * @example
   * const instance = await client.register('billing', 'billing-1', { zone: 'eu-1' });
   */
  async register(serviceName: string, instanceId: string, metadata: Record<string, unknown> = {}, options: RegisterOptions = {}): Promise<ServiceInstance> {
    this.#assertOpen();
    assertName('service_name', serviceName);
    assertName('instance_id', instanceId);
    const send = () => this.#sendRegistration(serviceName, instanceId, metadata, options);
    const reply = await send();
    const instance = new ServiceInstance(
      {
        nc: this.nc,
        logger: this.logger,
        sessionId: this.sessionId,
        requestTimeoutMs: options.timeoutMs ?? this.#options.requestTimeoutMs,
        asyncCallContext: this.#options.asyncCallContext,
        reregister: send,
        onClosed: (i) => this.#instances.delete(i),
      },
      serviceName,
      instanceId,
      metadata,
      reply,
    );
    this.#instances.add(instance);
    this.logger.info({ event: 'instance_registered', service_name: serviceName, instance_id: instanceId, idempotent: reply.idempotent }, 'registered');
    return instance;
  }

  /**
   * Calls `method` of `serviceName` through the router (RT-1, RT-6): one healthy instance
   * serves it, with failover to another instance on timeout. Resolves the handler's result.
   * @throws AegisError `INVALID_NAME`/`VALIDATION_FAILED` (400) and `PAYLOAD_TOO_LARGE` before
   * sending; `ROUTE_NO_INSTANCE` (503), `ROUTE_ALL_FAILED` (502, with every attempt),
   * `ROUTE_LOOP_DETECTED` (508), `ROUTE_CIRCUIT_OPEN` (503), `METHOD_NOT_FOUND` (404),
   * `APPLICATION_ERROR` (500, the handler threw), `TIMEOUT`, `CONNECTION_FAILED` (no router),
   * `CANCELLED` (the signal aborted). With `retry`, failures that ran no handler (and, when
   * `idempotent`, timeouts) are sent again within `timeoutMs`; the last error says how many
   * attempts were made in `callAttempts`.
   * @example
   * const sum = await client.call<number>('calculator', 'add', { a: 1, b: 2 }, { timeoutMs: 2_000 });
   * const stock = await client.call('inventory', 'count', { sku }, { timeoutMs: 5_000, retry: { idempotent: true } });
   */
  call<T = unknown>(serviceName: string, method: string, params?: Record<string, unknown>, options?: CallOptions): Promise<T> {
    // Not an async function: returning callService's promise from one would add two microtask
    // turns per call (ADR 0031 round 3); a throw still becomes a rejection.
    try {
      this.#assertOpen();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return callService<T>(this.nc, (this.#replies ??= new ReplyMux(this.nc)), serviceName, method, params, options, this.logger);
  }

  /**
   * Calls `method` of `serviceName` exactly once (SPEC §3, issue 4): the request is stored in
   * JetStream before it is sent, redelivered until an instance acknowledges it, processed once
   * across all instances (receivers run a `ReliableReceiver`), and a duplicate id gets the first
   * response. See docs/guarantees.md for where the guarantee stops.
   * @throws AegisError `STORAGE_FAILURE` (not stored), `ACK_TIMEOUT` (stored, outcome pending),
   * `MESSAGE_DUPLICATE` (with `onDuplicate: 'throw'`), `MESSAGE_EXPIRED`, `CANCELLED`, or the
   * handler's error once the message FAILED.
   * @example
   * const receipt = await client.callReliable('billing', 'charge', { amount: 5 }, { messageId: orderId });
   */
  async callReliable<T = unknown>(serviceName: string, method: string, params?: Record<string, unknown>, options?: ReliableCallOptions): Promise<T> {
    this.#assertOpen();
    this.#reliable ??= new ReliableCaller(this.nc, {
      logger: this.logger,
      registry: this.#options.registry,
      fallback: (service, m, p, traceId) => this.call(service, m, p, { traceId }),
    });
    return this.#reliable.call<T>(serviceName, method, params, options);
  }

  /**
   * Publishes an event (SPEC §4) at QoS 0 (core NATS, at most once), 1 (JetStream-acked, at least
   * once) or 2 (1 + de-duplication by message id), on NATS or Redis Streams (`transport`).
   * @throws AegisError `INVALID_NAME` (topic), `PAYLOAD_TOO_LARGE`, `PUBLISH_FAILED`, `STORAGE_FAILURE`.
   * @example
   * await client.publish('orders.created', { id: 42 }, { qos: 2, messageId: orderId });
   */
  publish(topic: string, payload: unknown, options?: PublishOptions): Promise<PublishResult> {
    this.#assertOpen();
    return this.#eventBus().publish(topic, payload, options);
  }

  /**
   * Subscribes `handler` to a topic; at QoS ≥ 1 it is acknowledged after the handler succeeds,
   * retried with backoff, and dead-lettered past `maxDeliver`. Subscribers of one `group` share
   * the events; separate groups each get every event. See docs/events.md.
   * @example
   * await client.subscribe('orders.created', async (event) => ship(event.payload), { qos: 2, group: 'shipping' });
   */
  subscribe(topic: string, handler: EventHandler, options?: SubscribeOptions): Promise<EventSubscription> {
    this.#assertOpen();
    return this.#eventBus().subscribe(topic, handler, options);
  }

  /** Unregisters every instance, then closes the connection (when the client opened it). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Subscriptions drain first so in-flight handlers finish and ack before the connection goes.
    await this.#events?.close();
    await Promise.all([...this.#instances].map((i) => i.close()));
    try {
      if (this.#ownsConnection && !this.nc.isClosed()) await this.nc.drain();
    } catch (err) {
      throw fromNatsError(err, 'closing the NATS connection');
    } finally {
      // Replies that arrived during the drain were delivered; calls still waiting fail CLOSED
      // now instead of holding the process open until their timeout.
      this.#replies?.close();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #sendRegistration(serviceName: string, instanceId: string, metadata: Record<string, unknown>, options: RegisterOptions): Promise<RegisterReply> {
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs;
    const body = { service_name: serviceName, instance_id: instanceId, metadata, session_id: this.sessionId };
    // REG-4: retried only when no router received it; a router that does not answer in time is
    // a 504 after the one timeout, not after four of them.
    return withRetry(
      () => requestReply<RegisterReply>(this.nc, SUBJECTS.register, body, { timeoutMs }),
      { ...this.#options.retry, ...options.retry },
      options.signal,
      isConnectionFailure,
    );
  }

  /** The event bus, created on first use so clients that never publish pay nothing for it. */
  #eventBus(): EventBus {
    this.#events ??= new EventBus({ registry: this.#options.registry, ...this.#options.events, nats: this.nc, logger: this.logger });
    return this.#events;
  }

  #assertOpen(): void {
    if (this.#closed) throw new AegisError('CLOSED', 'the client is closed');
  }
}

/**
 * Connects an AegisIPC client.
 * @example
 * const client = await connect();                 // NATS_URL or nats://127.0.0.1:4222
 * const instance = await client.register('billing', 'billing-1');
 * await client.close();                           // unregisters, drains
 */
export function connect(options: ClientOptions = {}): Promise<AegisClient> {
  return AegisClient.connect(options);
}
