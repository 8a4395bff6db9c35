/**
 * Idempotent creation of the JetStream stream, dead-letter stream and durable consumers the bus
 * uses. "Create or update": any number of processes may start at once; the first creates, the
 * others find the object and update only the settings the bus owns, so a changed option (say
 * `ackWaitMs`) is applied by the next start instead of being silently ignored.
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
import { createHash } from 'node:crypto';
import { ensureDurableConsumer, ensureStream } from '../jetstream/ensure-jetstream.js';
import type { ResolvedEventBusOptions, ResolvedSubscribeOptions } from './event-bus-options.js';

/** Subjects of one bus, derived from `subjectPrefix`. */
export interface NatsSubjects {
  /** Captured by the event stream: `<prefix>.<topic>`. */
  durable(topic: string): string;
  /** Core NATS only, never stored: `<prefix>-v.<topic>`. */
  volatile(topic: string): string;
  /** Captured by the dead-letter stream: `<prefix>-dlq.<topic>`. */
  deadLetter(topic: string): string;
  readonly dlqStream: string;
  /** Topic from a durable or dead-letter subject. */
  topicOf(subject: string): string;
}

export function natsSubjects(options: ResolvedEventBusOptions): NatsSubjects {
  const p = options.subjectPrefix;
  return {
    durable: (topic) => `${p}.${topic}`,
    volatile: (topic) => `${p}-v.${topic}`,
    deadLetter: (topic) => `${p}-dlq.${topic}`,
    dlqStream: `${options.stream}_DLQ`,
    topicOf: (subject) => subject.slice(subject.startsWith(`${p}-dlq.`) ? p.length + 5 : p.length + 1),
  };
}

/**
 * Durable consumer name of a group on a topic. Dots are not allowed in consumer names and
 * replacing them could make two topics collide, so a short hash of the topic keeps it unique
 * while the readable part keeps `nats consumer ls` useful.
 */
export function consumerName(topic: string, group: string): string {
  const hash = createHash('sha256').update(topic).digest('hex').slice(0, 8);
  return `${group}__${topic.replaceAll('.', '_')}`.slice(0, 100) + `__${hash}`;
}

/** Creates or updates the event stream and its dead-letter stream. */
export async function ensureStreams(jsm: JetStreamManager, options: ResolvedEventBusOptions): Promise<void> {
  const subjects = natsSubjects(options);
  // Limits retention: every group reads the same copy; `max_age` bounds disk, not consumption.
  await ensureStream(jsm, {
    name: options.stream,
    subjects: [`${options.subjectPrefix}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(options.maxAgeMs),
    duplicate_window: nanos(options.duplicateWindowMs),
    num_replicas: options.replicas,
    description: 'AegisIPC QoS 1/2 events',
  });
  await ensureStream(jsm, {
    name: subjects.dlqStream,
    subjects: [`${options.subjectPrefix}-dlq.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(options.dlqMaxAgeMs),
    duplicate_window: nanos(Math.min(options.duplicateWindowMs, options.dlqMaxAgeMs)),
    num_replicas: options.replicas,
    description: 'AegisIPC dead-lettered events',
  });
}

/**
 * Creates or updates the durable pull consumer of `group` on `topic`. `max_deliver` is one more
 * than the handler attempts: the spare delivery only happens when the last attempt crashed before
 * it could dead-letter, and is then parked without calling the handler (see retry policy).
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  options: ResolvedEventBusOptions,
  topic: string,
  sub: ResolvedSubscribeOptions,
): Promise<string> {
  const name = consumerName(topic, sub.group);
  const owned: Partial<ConsumerConfig> = {
    ack_wait: nanos(options.ackWaitMs),
    max_deliver: sub.maxDeliver + 1,
    max_ack_pending: Math.max(1000, sub.concurrency * 4),
    description: `AegisIPC group ${sub.group} on ${topic}`,
  };
  await ensureDurableConsumer(jsm, options.stream, name, owned, {
    ack_policy: AckPolicy.Explicit,
    deliver_policy: sub.from === 'all' ? DeliverPolicy.All : DeliverPolicy.New,
    filter_subject: natsSubjects(options).durable(topic),
  });
  return name;
}
