/**
 * Options of the event bus: an all-optional interface with `@default`s, the defaults defined
 * once, and one {@link resolveEventBusOptions} that validates (STYLE habit 5).
 */
import { AegisError, DEFAULT_MAX_PAYLOAD_BYTES, NAMESPACE, assertName, assertTopic } from '@aegis-ipc/protocol';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DedupeStore } from '../dedupe/dedupe-store.js';
import type { AnyRedisClient } from '../dedupe/redis-dedupe-store.js';
import type { Qos, SubscribeOptions, TransportName } from './types.js';

export interface EventBusOptions {
  /** Connection for the `nats` transport (shared; the bus never closes it). */
  readonly nats?: NatsConnection;
  /** Connected node-redis client for the `redis` transport (shared; the bus never closes it). */
  readonly redis?: AnyRedisClient;
  /** @default a silent pino logger */
  readonly logger?: Logger;
  /** Registry for the metrics. @default prom-client's global `register` */
  readonly registry?: Registry;
  /** Transport when a call does not name one. @default 'nats' when `nats` is given, else 'redis' */
  readonly defaultTransport?: TransportName;

  /** JetStream stream holding QoS 1/2 events. @default '<namespace>_events' ('ipc_events') */
  readonly stream?: string;
  /** Subject root: events go to `<prefix>.<topic>`, QoS 0 to `<prefix>-v.<topic>`, dead letters to `<prefix>-dlq.<topic>`. @default '<namespace>.evt' ('ipc.evt') */
  readonly subjectPrefix?: string;
  /** Stream replicas (3 on a cluster). @default 1 */
  readonly replicas?: number;
  /** How long the event stream keeps messages. @default 604800000 (7 days) */
  readonly maxAgeMs?: number;
  /** How long the dead-letter stream keeps messages. @default 2592000000 (30 days) */
  readonly dlqMaxAgeMs?: number;
  /** JetStream `duplicate_window`: `Nats-Msg-Id` dedupe of QoS 2 publishes (and Redis publish dedupe). @default 600000 (10 min) */
  readonly duplicateWindowMs?: number;
  /** Consumer `ack_wait`: a crashed subscriber's messages come back after it. @default 30000 */
  readonly ackWaitMs?: number;
  /** Broker acknowledgement timeout of one publish attempt. @default 5000 */
  readonly publishTimeoutMs?: number;
  /** Extra publish attempts after a timeout (same message id). @default 2 */
  readonly publishRetries?: number;

  /** Prefix of every Redis key. @default '<namespace>:evt' ('ipc:evt') */
  readonly redisKeyPrefix?: string;
  /** `XADD MAXLEN ~` of a QoS 1/2 topic stream. @default 100000 */
  readonly redisMaxLen?: number;
  /** `XADD MAXLEN ~` of a QoS 0 topic stream. @default 1000 */
  readonly redisVolatileMaxLen?: number;
  /** Idle time after which another consumer reclaims a pending entry (`XAUTOCLAIM`). @default 30000 */
  readonly claimIdleMs?: number;
  /** `XREADGROUP BLOCK`: how long one read waits; bounds how fast `close()` returns. @default 1000 */
  readonly blockMs?: number;
  /** Largest Redis payload (Redis has no `max_payload`; NATS uses the server's). @default 1048576 */
  readonly redisMaxPayloadBytes?: number;

  /** QoS 2 dedupe stores. @default a KV bucket `<stream>_DEDUPE` / Redis keys `<redisKeyPrefix>:dd:` */
  readonly dedupe?: { readonly nats?: DedupeStore; readonly redis?: DedupeStore };
  /** How long a processed QoS 2 message id is remembered (KV bucket `max_age`). @default 3600000 */
  readonly dedupeTtlMs?: number;

  /** Defaults for `subscribe()`. */
  readonly subscribeDefaults?: Omit<SubscribeOptions, 'transport' | 'group' | 'qos' | 'from'>;
}

export const EVENT_BUS_DEFAULTS = {
  // Derived from the subject namespace (ADR 0003) so two systems on one NATS never share a stream.
  stream: `${NAMESPACE}_events`,
  subjectPrefix: `${NAMESPACE}.evt`,
  replicas: 1,
  maxAgeMs: 7 * 24 * 3600_000,
  dlqMaxAgeMs: 30 * 24 * 3600_000,
  duplicateWindowMs: 10 * 60_000,
  ackWaitMs: 30_000,
  publishTimeoutMs: 5_000,
  publishRetries: 2,
  redisKeyPrefix: `${NAMESPACE}:evt`,
  redisMaxLen: 100_000,
  redisVolatileMaxLen: 1_000,
  claimIdleMs: 30_000,
  blockMs: 1_000,
  redisMaxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
  dedupeTtlMs: 3600_000,
  maxDeliver: 5,
  backoff: [1_000, 5_000, 30_000] as readonly number[],
  concurrency: 1,
  group: 'default',
  qos: 1 as Qos,
} as const;

export type ResolvedEventBusOptions = Readonly<
  Omit<EventBusOptions, 'subscribeDefaults' | 'defaultTransport'> & {
    defaultTransport: TransportName;
    stream: string;
    subjectPrefix: string;
    replicas: number;
    maxAgeMs: number;
    dlqMaxAgeMs: number;
    duplicateWindowMs: number;
    ackWaitMs: number;
    publishTimeoutMs: number;
    publishRetries: number;
    redisKeyPrefix: string;
    redisMaxLen: number;
    redisVolatileMaxLen: number;
    claimIdleMs: number;
    blockMs: number;
    redisMaxPayloadBytes: number;
    dedupeTtlMs: number;
    maxDeliver: number;
    backoff: readonly number[];
    concurrency: number;
  }
>;

function invalid(option: string, value: unknown, expected: string): AegisError<'CONFIG_INVALID'> {
  return new AegisError('CONFIG_INVALID', `event bus option ${option}=${JSON.stringify(value)} is invalid: expected ${expected}`, {
    details: { option, value: String(value), expected },
  });
}

function positiveInt(option: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) throw invalid(option, value, `an integer ≥ ${min}`);
  return value;
}

/** @throws AegisError `CONFIG_INVALID` naming the option. */
export function resolveEventBusOptions(options: EventBusOptions): ResolvedEventBusOptions {
  const d = EVENT_BUS_DEFAULTS;
  if (options.nats === undefined && options.redis === undefined) throw invalid('nats/redis', undefined, 'at least one connection');
  const defaultTransport = options.defaultTransport ?? (options.nats !== undefined ? 'nats' : 'redis');
  if (defaultTransport === 'nats' ? options.nats === undefined : options.redis === undefined) {
    throw invalid('defaultTransport', defaultTransport, 'a transport whose connection is given');
  }
  const stream = options.stream ?? d.stream;
  assertName('stream', stream);
  const subjectPrefix = options.subjectPrefix ?? d.subjectPrefix;
  assertTopic(subjectPrefix, 'subjectPrefix');
  const resolved = {
    ...options,
    defaultTransport,
    stream,
    subjectPrefix,
    replicas: positiveInt('replicas', options.replicas ?? d.replicas),
    maxAgeMs: positiveInt('maxAgeMs', options.maxAgeMs ?? d.maxAgeMs),
    dlqMaxAgeMs: positiveInt('dlqMaxAgeMs', options.dlqMaxAgeMs ?? d.dlqMaxAgeMs),
    duplicateWindowMs: positiveInt('duplicateWindowMs', options.duplicateWindowMs ?? d.duplicateWindowMs),
    ackWaitMs: positiveInt('ackWaitMs', options.ackWaitMs ?? d.ackWaitMs, 100),
    publishTimeoutMs: positiveInt('publishTimeoutMs', options.publishTimeoutMs ?? d.publishTimeoutMs),
    publishRetries: positiveInt('publishRetries', options.publishRetries ?? d.publishRetries, 0),
    redisKeyPrefix: options.redisKeyPrefix ?? d.redisKeyPrefix,
    redisMaxLen: positiveInt('redisMaxLen', options.redisMaxLen ?? d.redisMaxLen),
    redisVolatileMaxLen: positiveInt('redisVolatileMaxLen', options.redisVolatileMaxLen ?? d.redisVolatileMaxLen),
    claimIdleMs: positiveInt('claimIdleMs', options.claimIdleMs ?? d.claimIdleMs, 100),
    blockMs: positiveInt('blockMs', options.blockMs ?? d.blockMs, 10),
    redisMaxPayloadBytes: positiveInt('redisMaxPayloadBytes', options.redisMaxPayloadBytes ?? d.redisMaxPayloadBytes),
    dedupeTtlMs: positiveInt('dedupeTtlMs', options.dedupeTtlMs ?? d.dedupeTtlMs),
    maxDeliver: positiveInt('subscribeDefaults.maxDeliver', options.subscribeDefaults?.maxDeliver ?? d.maxDeliver),
    backoff: assertBackoff('subscribeDefaults.backoff', options.subscribeDefaults?.backoff ?? d.backoff),
    concurrency: positiveInt('subscribeDefaults.concurrency', options.subscribeDefaults?.concurrency ?? d.concurrency),
  };
  // A publisher retrying a QoS 2 message must still be inside the duplicate window on its last
  // attempt, or the broker stores the retry as a new message.
  const retryHorizon = (resolved.publishRetries + 1) * resolved.publishTimeoutMs;
  if (resolved.duplicateWindowMs < retryHorizon) {
    throw invalid('duplicateWindowMs', resolved.duplicateWindowMs, `≥ the publish retry horizon of ${retryHorizon} ms`);
  }
  // Consumer-side dedupe must outlive publish-side dedupe, or a late duplicate slips through both.
  if (resolved.dedupeTtlMs < resolved.duplicateWindowMs) {
    throw invalid('dedupeTtlMs', resolved.dedupeTtlMs, `≥ duplicateWindowMs (${resolved.duplicateWindowMs})`);
  }
  return Object.freeze(resolved);
}

function assertBackoff(option: string, backoff: readonly number[]): readonly number[] {
  const list: unknown = backoff;
  if (!Array.isArray(list) || list.some((ms) => !Number.isInteger(ms) || (ms as number) < 0)) throw invalid(option, backoff, 'an array of integers ≥ 0 (ms)');
  return Object.freeze(list.map(Number));
}

/** Subscribe options after defaults and validation. */
export interface ResolvedSubscribeOptions {
  readonly qos: Qos;
  readonly group: string;
  readonly maxDeliver: number;
  readonly backoff: readonly number[];
  readonly concurrency: number;
  readonly from: 'new' | 'all';
  readonly transport: TransportName;
}

/** @throws AegisError `INVALID_NAME` (topic, group) or `CONFIG_INVALID`. */
export function resolveSubscribeOptions(topic: string, options: SubscribeOptions, bus: ResolvedEventBusOptions): ResolvedSubscribeOptions {
  assertTopic(topic);
  const group = options.group ?? EVENT_BUS_DEFAULTS.group;
  assertName('group', group);
  const qos = options.qos ?? EVENT_BUS_DEFAULTS.qos;
  if (qos !== 0 && qos !== 1 && qos !== 2) throw invalid('qos', qos, '0, 1 or 2');
  const from = options.from ?? 'new';
  if (from !== 'new' && from !== 'all') throw invalid('from', from, "'new' or 'all'");
  return {
    qos,
    group,
    maxDeliver: positiveInt('maxDeliver', options.maxDeliver ?? bus.maxDeliver),
    backoff: assertBackoff('backoff', options.backoff ?? bus.backoff),
    concurrency: positiveInt('concurrency', options.concurrency ?? bus.concurrency),
    from,
    transport: options.transport ?? bus.defaultTransport,
  };
}
