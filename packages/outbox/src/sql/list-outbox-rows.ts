import type { Queryable } from '../db/database.js';
import type { OutboxRowSummary, OutboxStatus } from '../types.js';

/**
 * Outbox rows with `status`, oldest first (`aegis outbox failed`). Locking: none (plain read,
 * served by the partial indexes for PENDING and unsent rows).
 */
export async function listOutboxRows(db: Queryable, status: OutboxStatus, limit = 100): Promise<OutboxRowSummary[]> {
  const rows = await db.query<{
    id: string | number;
    event_id: string;
    topic: string;
    key: string;
    event_type: string;
    status: OutboxStatus;
    attempts: number;
    last_error: string | null;
    created_at: Date;
  }>(
    `SELECT id, event_id, topic, key, payload->>'event_type' AS event_type, status, attempts, last_error, created_at
     FROM event_outbox WHERE status = $1 ORDER BY id LIMIT $2`,
    [status, limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    eventId: r.event_id,
    topic: r.topic,
    key: r.key,
    eventType: r.event_type,
    status: r.status,
    attempts: Number(r.attempts),
    lastError: r.last_error,
    createdAt: new Date(r.created_at),
  }));
}
