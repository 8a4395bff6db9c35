/** Options of `connect()`: all optional, defaults defined once, resolved by one function. */
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AegisError } from '@aegis-ipc/protocol';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../retry/retry-policy.js';
import type { EventBusOptions } from '../events/event-bus-options.js';

export interface ClientOptions {
  /** NATS server URL(s). @default process.env.NATS_URL ?? 'nats://127.0.0.1:4222' */
  readonly servers?: string | readonly string[];
  /** Connection name shown by the server. @default 'aegis-client' */
  readonly name?: string;
  /** Use an existing connection (not closed by `close()`). */
  readonly nc?: NatsConnection;
  /** Timeout of protocol requests such as registration (ms). @default 5000 */
  readonly requestTimeoutMs?: number;
  /**
   * Retry policy of registration: retried when no router is listening (`CONNECTION_FAILED`),
   * never on a `TIMEOUT` (REG-4). @default { retries: 3, initialDelayMs: 200, maxDelayMs: 2000 }
   */
  readonly retry?: RetryPolicy;
  /** A pino logger. @default a silent-by-default JSON logger at AEGIS_LOG_LEVEL ?? 'warn' */
  readonly logger?: Logger;
  /**
   * Let `client.call()` inside a handler find the call being served by itself (AsyncLocalStorage),
   * instead of `{ parent: ctx }`. Off by default: on Node 20 it slows every promise of the process.
   * @default false
   */
  readonly asyncCallContext?: boolean;
  /**
   * Prometheus registry of the client's metrics: the caller side of `callReliable`
   * (`ipc_messages_sent_total`, `ipc_acknowledgment_timeout_total`, caller retries) and, unless
   * `events.registry` names another, the event bus. A receiver takes its own (`ReliableReceiver`
   * options); pass the same registry to both to expose them together.
   * @default prom-client's global registry
   */
  readonly registry?: Registry;
  /**
   * Options of the event bus behind `publish`/`subscribe` (pass `redis` — a connected node-redis
   * client — to use the Redis Streams transport). The bus shares the client's NATS connection.
   * Not read from the environment: the `AEGIS_EVENTS_*` variables configure `aegis events` and
   * `openEventBus()` only, so set the same values here when they differ from the defaults.
   * @default NATS transport, the event bus defaults (see docs/events.md)
   */
  readonly events?: Omit<EventBusOptions, 'nats' | 'logger'>;
}

export interface ResolvedClientOptions {
  readonly servers: readonly string[];
  readonly name: string;
  readonly nc: NatsConnection | undefined;
  readonly requestTimeoutMs: number;
  readonly retry: Required<RetryPolicy>;
  readonly logger: Logger | undefined;
  readonly asyncCallContext: boolean;
  readonly registry: Registry | undefined;
  readonly events: Omit<EventBusOptions, 'nats' | 'logger'>;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/** @throws AegisError `CONFIG_INVALID` */
export function resolveClientOptions(options: ClientOptions = {}): ResolvedClientOptions {
  const servers = options.servers ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (!Number.isFinite(requestTimeoutMs) || requestTimeoutMs <= 0) {
    throw new AegisError('CONFIG_INVALID', `requestTimeoutMs must be a positive number, got ${requestTimeoutMs}`);
  }
  const retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  if (!Number.isInteger(retry.retries) || retry.retries < 0) throw new AegisError('CONFIG_INVALID', `retry.retries must be a non-negative integer, got ${retry.retries}`);
  return Object.freeze({
    servers: typeof servers === 'string' ? servers.split(',').map((s) => s.trim()) : [...servers],
    name: options.name ?? 'aegis-client',
    nc: options.nc,
    requestTimeoutMs,
    retry,
    logger: options.logger,
    asyncCallContext: options.asyncCallContext ?? false,
    registry: options.registry,
    events: options.events ?? {},
  });
}
