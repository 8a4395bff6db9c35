import { EVENT_HEADERS, readEnvelope, readEnvelopeRecord, type EventEnvelope } from './event-headers.js';

/** Redis keys of one bus, derived from `redisKeyPrefix` (topics are `[A-Za-z0-9_.-]`, safe in keys). */
export interface RedisKeys {
  /** QoS 1/2 stream of a topic. */
  durable(topic: string): string;
  /** QoS 0 stream of a topic (short, read with NOACK). */
  volatile(topic: string): string;
  /** One dead-letter stream for all topics. */
  readonly deadLetters: string;
  /** Set of topics that have durable consumer groups (for stats). */
  readonly topics: string;
  /** Publish-side dedupe marker of a QoS 2 message id (the duplicate window). */
  published(messageId: string): string;
  /** Prefix of the default QoS 2 dedupe store. */
  readonly dedupe: string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    durable: (topic) => `${prefix}:s:${topic}`,
    volatile: (topic) => `${prefix}:v:${topic}`,
    deadLetters: `${prefix}:dlq`,
    topics: `${prefix}:topics`,
    published: (messageId) => `${prefix}:pub:${messageId}`,
    dedupe: `${prefix}:dd:`,
  };
}

/** A stream entry read through a Buffer-mapped client. */
export interface RawEntry {
  readonly id: string;
  readonly fields: Readonly<Record<string, Buffer>>;
}

/** Normalises node-redis' stream entry shape (ids and fields as Buffers) into {@link RawEntry}. */
export function toRawEntry(entry: { id: unknown; message: unknown }): RawEntry {
  return { id: String(entry.id), fields: (entry.message ?? {}) as Record<string, Buffer> };
}

/** The envelope of an entry: its `h` field (a JSON object of headers), or an empty one. */
export function entryEnvelope(entry: RawEntry): EventEnvelope {
  const raw = entry.fields.h;
  if (raw !== undefined) {
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (typeof parsed === 'object' && parsed !== null) return readEnvelopeRecord(parsed as Record<string, unknown>, entry.id);
    } catch {
      // unreadable headers: treat as none
    }
  }
  return readEnvelope([], entry.id);
}

/**
 * The entry's header JSON with its message id written out: an event published without an id is
 * known by its entry id (ADR 0025), which its dead letter and a replay (new entries) must keep.
 */
export function headersWithMessageId(entry: RawEntry, messageId: string): string {
  let headers: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(entry.fields.h?.toString('utf8') ?? '{}');
    if (typeof parsed === 'object' && parsed !== null) headers = parsed as Record<string, unknown>;
  } catch {
    // unreadable headers: keep only the id
  }
  return JSON.stringify({ ...headers, [EVENT_HEADERS.messageId]: messageId });
}

/**
 * Trace context an external publisher stored as top-level entry fields (the outbox relay's Redis
 * sink writes `traceparent`); our own publishes carry it inside `h`.
 */
export function entryTrace(entry: RawEntry): Record<string, string> | undefined {
  const traceparent = entry.fields.traceparent?.toString('utf8');
  if (traceparent === undefined || traceparent === '') return undefined;
  const tracestate = entry.fields.tracestate?.toString('utf8');
  return tracestate === undefined || tracestate === '' ? { traceparent } : { traceparent, tracestate };
}
