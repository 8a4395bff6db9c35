/**
 * Publishes outbox rows to NATS JetStream (OB-4, OB-8): subject `<topic>.<aggregate id>`,
 * `Nats-Msg-Id` = event id so the stream drops a re-publish inside its duplicate window, and
 * the publish resolves on the stream's ack (the event is stored). Publishes go through
 * the SDK's `JetStreamPublisher`, not `js.publish()` (no per-message stack captures and timer, ADR 0013).
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { headers as natsHeaders, nanos } from '@nats-io/nats-core';
import { jetstreamManager } from '@nats-io/jetstream';
import { AegisError, HEADERS } from '@aegis-ipc/protocol';
import { redactUrl } from '../redact-url.js';
import type { OutboxRecord } from '../types.js';
import type { OutboxSink } from './outbox-sink.js';
import { subjectToken } from './subject-token.js';
import { JetStreamPublisher } from '@aegis-ipc/sdk';

export interface NatsJetStreamSinkOptions {
  /** @default 'nats://127.0.0.1:4222' */
  readonly servers?: string;
  /** Stream created when missing, capturing `<topic>.>`. @default 'AEGIS_DOMAIN_EVENTS' */
  readonly stream?: string;
  /** Topics the stream must capture. @default ['domain-events'] */
  readonly topics?: readonly string[];
  /** Dedupe window of a created stream, in ms; must exceed the longest relay outage you accept duplicates for. @default 120000 */
  readonly duplicateWindowMs?: number;
  /** How long to wait for the stream's ack. @default 5000 */
  readonly publishTimeoutMs?: number;
  /** Connection name shown by the server. @default 'aegis-relay' */
  readonly name?: string;
}

/** Headers set on every published event, besides `Nats-Msg-Id` and trace context. */
export const EVENT_HEADERS = {
  eventType: 'Aegis-Event-Type',
  aggregateId: 'Aegis-Aggregate-Id',
  sequence: 'Aegis-Event-Sequence',
} as const;

/** The subject an outbox row is published on. */
export function subjectFor(record: Pick<OutboxRecord, 'topic' | 'key'>): string {
  return `${record.topic}.${subjectToken(record.key)}`;
}

export class NatsJetStreamSink implements OutboxSink {
  readonly name = 'nats';
  private readonly encoder = new TextEncoder();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly publisher: JetStreamPublisher,
    private readonly ownsConnection: boolean,
  ) {}

  /**
   * Connects (or uses `nc`) and makes sure the stream exists. An existing stream is left as it
   * is: its subjects and limits are the operator's.
   */
  static async create(options: NatsJetStreamSinkOptions = {}, nc?: NatsConnection): Promise<NatsJetStreamSink> {
    const servers = options.servers ?? 'nats://127.0.0.1:4222';
    const conn =
      nc ??
      (await connect({ servers, name: options.name ?? 'aegis-relay', maxReconnectAttempts: -1 }).catch((err: unknown) => {
        // A first connection that fails is a wrong URL or a server that is down: say which.
        const where = servers.split(',').map((server) => redactUrl(server.trim())).join(',');
        throw new AegisError('CONNECTION_FAILED', `cannot connect to NATS at ${where}: ${(err as Error).message}`, { cause: err, details: { url: where } });
      }));
    try {
      const jsm = await jetstreamManager(conn);
      const stream = options.stream ?? 'AEGIS_DOMAIN_EVENTS';
      try {
        await jsm.streams.info(stream);
      } catch {
        await jsm.streams.add({
          name: stream,
          subjects: (options.topics ?? ['domain-events']).map((t) => `${t}.>`),
          duplicate_window: nanos(options.duplicateWindowMs ?? 120_000),
        });
      }
      return new NatsJetStreamSink(conn, new JetStreamPublisher(conn, options.publishTimeoutMs ?? 5_000), nc === undefined);
    } catch (err) {
      if (nc === undefined) await conn.close();
      throw err;
    }
  }

  async publish(record: OutboxRecord): Promise<void> {
    const h = natsHeaders();
    h.set(HEADERS.natsMsgId, record.eventId);
    h.set(HEADERS.messageId, record.eventId);
    h.set(EVENT_HEADERS.eventType, record.payload.event_type);
    h.set(EVENT_HEADERS.aggregateId, record.key);
    h.set(EVENT_HEADERS.sequence, String(record.payload.sequence));
    for (const [name, value] of Object.entries(record.headers)) h.set(name, value);
    // Resolves on the stream's PubAck (stored, or recognised as a duplicate of `Nats-Msg-Id`).
    await this.publisher.publish(subjectFor(record), this.encoder.encode(JSON.stringify(record.payload)), h);
  }

  /** Waits for outstanding publishes (acked or timed out), then closes an owned connection. */
  async close(): Promise<void> {
    await this.publisher.close();
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.drain();
  }
}
