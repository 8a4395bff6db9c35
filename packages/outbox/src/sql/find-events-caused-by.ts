import type { Queryable } from '../db/database.js';
import type { DomainEvent } from '../types.js';

/**
 * The events a command caused (`causation_id` = command id), in sequence order; an idempotent
 * retry answers with them. Locking: none (plain read).
 */
export async function findEventsCausedBy(db: Queryable, causationId: string): Promise<DomainEvent[]> {
  const rows = await db.query<{ event: DomainEvent }>(
    `SELECT jsonb_build_object(
       'sequence', sequence, 'event_id', event_id, 'correlation_id', correlation_id,
       'causation_id', causation_id, 'event_type', event_type, 'event_version', event_version,
       'aggregate_type', aggregate_type, 'aggregate_id', aggregate_id, 'payload', payload,
       'metadata', metadata, 'created_at', created_at) AS event
     FROM domain_events WHERE causation_id = $1 ORDER BY sequence`,
    [causationId],
  );
  return rows.map((r) => r.event);
}
