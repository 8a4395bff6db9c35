import type { Queryable } from '../db/database.js';
import type { OutboxStats } from '../types.js';

/**
 * Backlog figures. Locking: none. `sent` counts the whole table (a full scan on a large outbox;
 * the pending/failed counts use the partial indexes).
 */
export async function outboxStats(db: Queryable): Promise<OutboxStats> {
  const rows = await db.query<{ pending: string | number; sent: string | number; failed: string | number; oldest_age: string | number | null }>(
    `SELECT
       count(*) FILTER (WHERE status = 'PENDING') AS pending,
       count(*) FILTER (WHERE status = 'SENT') AS sent,
       count(*) FILTER (WHERE status = 'FAILED') AS failed,
       EXTRACT(EPOCH FROM clock_timestamp() - min(created_at) FILTER (WHERE status = 'PENDING'))::float8 AS oldest_age
     FROM event_outbox`,
  );
  const r = rows[0];
  return {
    pending: Number(r?.pending ?? 0),
    sent: Number(r?.sent ?? 0),
    failed: Number(r?.failed ?? 0),
    oldestPendingAgeSeconds: r?.oldest_age == null ? 0 : Number(r.oldest_age),
  };
}
