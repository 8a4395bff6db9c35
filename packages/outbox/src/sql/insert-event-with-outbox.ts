import type { Queryable } from '../db/database.js';
import type { DomainEvent } from '../types.js';

export interface InsertEventParams {
  readonly eventId: string;
  readonly correlationId: string;
  readonly causationId: string;
  readonly eventType: string;
  readonly eventVersion: number;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly payload: unknown;
  readonly metadata: unknown;
  readonly topic: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Appends one event to `domain_events` and its PENDING row to `event_outbox` in one statement
 * (the outbox payload is the stored event, built by the database so `sequence` and `created_at`
 * are the real ones). The insert trigger NOTIFYs relays at commit.
 *
 * Locking: none beyond the new rows. The caller holds the aggregate's advisory lock, which is
 * what makes `sequence` (and the outbox id) grow in commit order per aggregate. Not idempotent:
 * `event_id` is unique, a repeat fails with 23505.
 */
export async function insertEventWithOutbox(db: Queryable, p: InsertEventParams): Promise<DomainEvent> {
  const rows = await db.query<{ event: DomainEvent }>(
    `WITH ev AS (
       INSERT INTO domain_events
         (event_id, correlation_id, causation_id, event_type, event_version, aggregate_type, aggregate_id, payload, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       RETURNING *
     ), body AS (
       SELECT ev.*, jsonb_build_object(
         'sequence', ev.sequence, 'event_id', ev.event_id, 'correlation_id', ev.correlation_id,
         'causation_id', ev.causation_id, 'event_type', ev.event_type, 'event_version', ev.event_version,
         'aggregate_type', ev.aggregate_type, 'aggregate_id', ev.aggregate_id, 'payload', ev.payload,
         'metadata', ev.metadata, 'created_at', ev.created_at) AS event
       FROM ev
     ), ob AS (
       INSERT INTO event_outbox (event_id, topic, key, payload, headers)
       SELECT event_id, $10, aggregate_id, event, $11 FROM body
     )
     SELECT event FROM body`,
    [
      p.eventId,
      p.correlationId,
      p.causationId,
      p.eventType,
      p.eventVersion,
      p.aggregateType,
      p.aggregateId,
      JSON.stringify(p.payload ?? {}),
      JSON.stringify(p.metadata ?? {}),
      p.topic,
      JSON.stringify(p.headers),
    ],
  );
  const event = rows[0]?.event;
  if (event === undefined) throw new Error('insert into domain_events returned no row');
  return event;
}
