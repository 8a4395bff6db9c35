/**
 * The NATS transport: QoS 0 on core NATS (never stored), QoS 1/2 on a JetStream stream with
 * server-acknowledged publishes; QoS 2 adds `Nats-Msg-Id` so a retried publish inside the
 * duplicate window is stored once. Dead letters go to a second stream.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/nats-core';
import { AegisError, decode, natsHeaderBlock } from '@aegis-ipc/protocol';
import type { Logger } from 'pino';
import type { DeliveryNext } from './delivery.js';
import type { ResolvedEventBusOptions, ResolvedSubscribeOptions } from './event-bus-options.js';
import { EVENT_HEADERS, hasHeaders, readEnvelope } from './event-headers.js';
import type { EventTransport, OutgoingEvent, SubscriptionHooks } from './event-transport.js';
import { JetStreamPublisher, JetStreamPublishError } from '../jetstream/jetstream-publisher.js';
import { subscribeNats } from './nats-subscription.js';
import { ensureStreams, natsSubjects, type NatsSubjects } from './nats-topology.js';
import type { DeadLetter, PublishResult, EventSubscription, TopicGroupStats } from './types.js';

/** What the NATS subscription code shares with the transport. */
export interface NatsContext {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly options: ResolvedEventBusOptions;
  readonly subjects: NatsSubjects;
  readonly logger: Logger;
  /** Server-acknowledged publishes of events (ADR 0023). */
  readonly publisher: JetStreamPublisher;
}

/**
 * The id of an event that was published without one (QoS 1, ADR 0025): its stream position,
 * the same on the publisher (from the PubAck) and on every delivery (from the ack subject).
 */
export function streamPositionId(stream: string, seq: number): string {
  return `${stream}-${seq}`;
}

export function toNatsHeaders(map: Readonly<Record<string, string>>): MsgHdrs {
  const h = natsHeaders();
  for (const [name, value] of Object.entries(map)) h.set(name, value);
  return h;
}

export function* headerEntries(h: MsgHdrs | undefined): Generator<[string, string]> {
  if (h === undefined) return;
  for (const name of h.keys()) yield [name, h.get(name)];
}

/**
 * The header block of an event publish, built as bytes once (nats.js' `MsgHdrs.set` validates and
 * canonicalises every key). Names are checked by `assertUserHeaders` or are ours; values carry no
 * CR/LF (ids, numbers, checked user values, a sanitised key).
 */
class EventHeaderBlock {
  readonly bytes: Uint8Array;
  constructor(headers: Readonly<Record<string, string>>, natsMsgId: string | undefined) {
    const pairs: string[] = [];
    for (const name in headers) pairs.push(name, headers[name] as string);
    if (natsMsgId !== undefined) pairs.push(EVENT_HEADERS.natsMsgId, natsMsgId);
    this.bytes = natsHeaderBlock(pairs);
  }
  /** All nats.js calls on a publish's headers (see NatsHeaderBlock in the protocol package). */
  encode(): Uint8Array {
    return this.bytes;
  }
}

export class NatsTransport implements EventTransport {
  readonly name = 'nats' as const;
  private ctx: NatsContext | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: ResolvedEventBusOptions,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.ctx !== undefined) return;
    try {
      const jsm = await jetstreamManager(this.nc);
      await ensureStreams(jsm, this.options);
      this.ctx = {
        nc: this.nc,
        js: jetstream(this.nc),
        jsm,
        options: this.options,
        subjects: natsSubjects(this.options),
        logger: this.logger,
        publisher: new JetStreamPublisher(this.nc, this.options.publishTimeoutMs),
      };
    } catch (err) {
      throw new AegisError('STORAGE_FAILURE', `cannot set up JetStream streams for events: ${String(err)}`, { cause: err });
    }
  }

  /** Stops the publish-ack listener once outstanding publishes are acked or timed out. */
  async close(): Promise<void> {
    await this.ctx?.publisher.close();
  }

  private context(): NatsContext {
    if (this.ctx === undefined) throw new AegisError('CLOSED', 'the NATS event transport is not started');
    return this.ctx;
  }

  async publish(event: OutgoingEvent): Promise<PublishResult> {
    const { nc, publisher, subjects, options } = this.context();
    // Nats-Msg-Id makes a retried publish inside the duplicate window a no-op. QoS 1 sends it too
    // when the caller named the event: then no copy of an id can be stored twice within the
    // window at either level, which is what lets a QoS 2 receiver run an SDK-made id's first
    // delivery before claiming it (ADR 0026).
    const natsMsgId = event.qos === 0 ? undefined : event.messageId;
    // A plain QoS 1 publish has nothing to say in headers: sending none spares the header block
    // on the client, the server and every receiver (ADR 0025).
    const block = natsMsgId === undefined && !hasHeaders(event.headers) ? undefined : new EventHeaderBlock(event.headers, natsMsgId);
    // An oversized publish makes the server close the connection every other user shares.
    const limit = nc.info?.max_payload ?? 1024 * 1024;
    const size = event.data.length + (block?.bytes.length ?? 0);
    if (size > limit) {
      throw new AegisError('PAYLOAD_TOO_LARGE', `event of ${size} bytes exceeds the server max_payload of ${limit}`, {
        details: { size, limit },
      });
    }
    const headers = block as unknown as MsgHdrs | undefined;
    if (event.qos === 0) {
      try {
        nc.publish(subjects.volatile(event.topic), event.data, { headers });
      } catch (err) {
        // A closed or draining connection throws synchronously; keep the error typed.
        throw new AegisError('PUBLISH_FAILED', `cannot publish the QoS 0 event on ${event.topic}: ${String(err)}`, {
          cause: err,
          details: { topic: event.topic, message_id: event.messageId },
        });
      }
      return { messageId: event.messageId ?? '', duplicate: false };
    }
    const subject = subjects.durable(event.topic);
    let lastError: unknown;
    for (let attempt = 0; attempt <= options.publishRetries; attempt++) {
      try {
        const ack = await publisher.publish(subject, event.data, headers);
        return { messageId: event.messageId ?? streamPositionId(options.stream, ack.seq), duplicate: ack.duplicate };
      } catch (err) {
        lastError = err;
        // Only a lost answer is worth retrying; a rejection (wrong stream, limits) will repeat.
        if (!(err instanceof JetStreamPublishError && err.retryable)) break;
      }
    }
    throw new AegisError('PUBLISH_FAILED', `JetStream did not accept the event on ${subject}: ${String(lastError)}`, {
      cause: lastError,
      details: { topic: event.topic, message_id: event.messageId },
    });
  }

  subscribe(topic: string, options: ResolvedSubscribeOptions, pipeline: DeliveryNext, hooks: SubscriptionHooks = {}): Promise<EventSubscription> {
    return subscribeNats(this.context(), topic, options, pipeline, hooks);
  }

  async stats(): Promise<TopicGroupStats[]> {
    const { jsm, options, subjects } = this.context();
    const out: TopicGroupStats[] = [];
    for await (const info of jsm.consumers.list(options.stream)) {
      const filter = info.config.filter_subject;
      if (filter === undefined) continue;
      out.push({
        transport: 'nats',
        topic: subjects.topicOf(filter),
        group: info.name.split('__')[0] ?? info.name,
        pending: info.num_ack_pending,
        lag: info.num_pending,
      });
    }
    return out;
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    const { jsm, subjects } = this.context();
    const out: DeadLetter[] = [];
    const info = await jsm.streams.info(subjects.dlqStream);
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && out.length < limit; seq++) {
      const msg = await jsm.streams.getMessage(subjects.dlqStream, { seq }).catch(() => null);
      if (msg === null) continue;
      const h = Object.fromEntries(headerEntries(msg.header));
      const env = readEnvelope(Object.entries(h), String(seq));
      let payload: unknown;
      try {
        payload = decode(msg.data);
      } catch {
        payload = `<${msg.data.length} undecodable bytes>`;
      }
      out.push({
        id: String(seq),
        transport: 'nats',
        topic: h[EVENT_HEADERS.dlqTopic] ?? subjects.topicOf(msg.subject),
        group: h[EVENT_HEADERS.dlqGroup] ?? '',
        messageId: env.messageId,
        error: h[EVENT_HEADERS.dlqError] ?? '',
        deliveryCount: Number(h[EVENT_HEADERS.dlqDeliveries] ?? 0),
        deadLetteredAt: Number(h[EVENT_HEADERS.dlqAt] ?? msg.time.getTime()),
        payload,
      });
    }
    return out;
  }

  async replay(id: string): Promise<boolean> {
    const { jsm, js, subjects } = this.context();
    const seq = Number(id);
    if (!Number.isInteger(seq) || seq <= 0) return false;
    const msg = await jsm.streams.getMessage(subjects.dlqStream, { seq }).catch(() => null);
    if (msg === null) return false;
    const h = Object.fromEntries(headerEntries(msg.header));
    const topic = h[EVENT_HEADERS.dlqTopic] ?? subjects.topicOf(msg.subject);
    const kept = Object.fromEntries(Object.entries(h).filter(([name]) => !name.startsWith('Ipc-Dlq-') && name !== EVENT_HEADERS.natsMsgId));
    // A replay keeps the event's message id (QoS 2 groups that completed it skip it) but needs
    // its own Nats-Msg-Id, or the stream would drop it as a duplicate of the original publish.
    await js.publish(subjects.durable(topic), msg.data, { headers: toNatsHeaders(kept), msgID: `replay-${subjects.dlqStream}-${seq}` });
    await jsm.streams.deleteMessage(subjects.dlqStream, seq, false);
    return true;
  }
}
