import type { Queryable } from '../db/database.js';
import type { DomainEvent } from '../types.js';

/**
 * Events of one aggregate after `afterSequence`, in order — the history a progress stream
 * replays before going live. Locking: none (plain read on `domain_events_aggregate`).
 */
export async function listAggregateEvents(db: Queryable, aggregateId: string, afterSequence = 0, limit = 1000): Promise<DomainEvent[]> {
  const rows = await db.query<{ event: DomainEvent }>(
    `SELECT jsonb_build_object(
       'sequence', sequence, 'event_id', event_id, 'correlation_id', correlation_id,
       'causation_id', causation_id, 'event_type', event_type, 'event_version', event_version,
       'aggregate_type', aggregate_type, 'aggregate_id', aggregate_id, 'payload', payload,
       'metadata', metadata, 'created_at', created_at) AS event
     FROM domain_events WHERE aggregate_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3`,
    [aggregateId, afterSequence, limit],
  );
  return rows.map((r) => r.event);
}
