/**
 * The JetStream objects behind exactly-once calls, all named from the namespace so isolated
 * systems (and test files) sharing one NATS never meet:
 * - `<NS>_RELIABLE`: work-queue stream on `<ns>.reliable.<service>.<method>.<message_id>` — file storage,
 *   `Nats-Msg-Id` duplicate window, bounded size with `discard: new` (a full stream refuses new
 *   calls with STORAGE_FAILURE instead of silently dropping unprocessed ones). The message id in
 *   the subject lets a status reader find a request no receiver has touched yet (ADR 0053);
 * - `<NS>_RELIABLE_DLQ`: dead letters on `<ns>.reliable-dlq.<service>.<method>`;
 * - one durable pull consumer per service, `reliable_<service>`, shared by all its instances.
 * Creation is "create or update", so any process may start first.
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { NAMESPACE } from '@aegis-ipc/protocol';
import { ackWaits, type RetrySchedule } from './reliable-options.js';
import { ensureDurableConsumer, ensureStream } from '../jetstream/ensure-jetstream.js';

export const RELIABLE_STREAM = `${NAMESPACE}_RELIABLE`;
export const RELIABLE_DLQ_STREAM = `${NAMESPACE}_RELIABLE_DLQ`;
/** KV bucket of message states (EO-5). */
export const MESSAGE_STATUS_BUCKET = `${NAMESPACE}_MSG_STATUS`;

/** Limits of the request stream (documented in docs/guarantees.md). */
export const RELIABLE_STREAM_LIMITS = Object.freeze({
  /** An unconsumed request (no instance of its service ever came) is kept this long. */
  maxAgeMs: 7 * 24 * 60 * 60 * 1000,
  maxBytes: 1024 * 1024 * 1024,
  maxMsgs: 1_000_000,
  /** Dead letters are kept for operators this long. */
  dlqMaxAgeMs: 14 * 24 * 60 * 60 * 1000,
});

/** Subject of one request: the message id is the last token (ids are `[A-Za-z0-9_-]`). */
export function requestSubject(serviceName: string, method: string, messageId: string): string {
  return `${NAMESPACE}.reliable.${serviceName}.${method}.${messageId}`;
}

/** Matches the request of `messageId` whatever its service and method (status look-ups). */
export function requestSubjectOf(messageId: string): string {
  return `${NAMESPACE}.reliable.*.*.${messageId}`;
}

export function deadLetterSubject(serviceName: string, method: string): string {
  return `${NAMESPACE}.reliable-dlq.${serviceName}.${method}`;
}

/**
 * Service and method of a request or dead-letter subject. Requests stored before ADR 0053 have no
 * message-id token; they are still read (the id is in the `Ipc-Message-Id` header either way).
 */
export function parseReliableSubject(subject: string): { serviceName: string; method: string } | undefined {
  const parts = subject.split('.');
  if (parts[0] !== NAMESPACE) return undefined;
  const request = parts[1] === 'reliable' && (parts.length === 4 || parts.length === 5);
  if (!request && !(parts[1] === 'reliable-dlq' && parts.length === 4)) return undefined;
  return { serviceName: parts[2] as string, method: parts[3] as string };
}

export function consumerNameOf(serviceName: string): string {
  return `reliable_${serviceName}`;
}

/** Creates or updates both streams. */
export async function ensureReliableStreams(jsm: JetStreamManager, duplicateWindowMs: number, replicas = 1): Promise<void> {
  await ensureStream(jsm, {
    name: RELIABLE_STREAM,
    subjects: [`${NAMESPACE}.reliable.>`],
    // Work queue: a request is removed once one instance acked it; all instances share it.
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_age: nanos(RELIABLE_STREAM_LIMITS.maxAgeMs),
    max_bytes: RELIABLE_STREAM_LIMITS.maxBytes,
    max_msgs: RELIABLE_STREAM_LIMITS.maxMsgs,
    duplicate_window: nanos(duplicateWindowMs),
    num_replicas: replicas,
    description: 'AegisIPC exactly-once call requests',
  });
  await ensureStream(jsm, {
    name: RELIABLE_DLQ_STREAM,
    subjects: [`${NAMESPACE}.reliable-dlq.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(RELIABLE_STREAM_LIMITS.dlqMaxAgeMs),
    duplicate_window: nanos(duplicateWindowMs),
    num_replicas: replicas,
    description: 'AegisIPC dead-lettered exactly-once calls',
  });
}

/**
 * Creates or updates the service's consumer. `backoff` holds one ack wait per real delivery;
 * `max_deliver` has one spare delivery so a last attempt that crashed before parking its message
 * is parked by whoever receives the spare (never the infinite server default).
 */
export async function ensureServiceConsumer(jsm: JetStreamManager, serviceName: string, schedule: RetrySchedule, maxAckPending: number): Promise<string> {
  const name = consumerNameOf(serviceName);
  const waits = ackWaits(schedule);
  const owned: Partial<ConsumerConfig> = {
    ack_wait: nanos(waits[0] ?? schedule.ackTimeoutMs),
    backoff: waits.map((ms) => nanos(ms)),
    max_deliver: schedule.maxRetries + 2,
    max_ack_pending: maxAckPending,
    description: `AegisIPC exactly-once calls to ${serviceName}`,
  };
  await ensureDurableConsumer(jsm, RELIABLE_STREAM, name, owned, {
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: `${NAMESPACE}.reliable.${serviceName}.>`,
  });
  return name;
}
