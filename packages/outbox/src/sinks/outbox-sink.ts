/** Where the relay publishes outbox rows (OB-8: NATS JetStream first, Redis Streams second). */
import type { OutboxRecord } from '../types.js';

/**
 * A broker the relay publishes to. `publish` resolves only once the broker has durably accepted
 * the record, and must be safe to repeat for the same `record.eventId` (the relay publishes
 * at least once; the sink or broker dedupes by event id).
 */
export interface OutboxSink {
  readonly name: string;
  publish(record: OutboxRecord): Promise<void>;
  close(): Promise<void>;
}
