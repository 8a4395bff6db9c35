import type { Queryable } from '../db/database.js';

/**
 * Marks published rows SENT. Locking: the rows are already locked by the claim in the same
 * transaction. Idempotent (SENT stays SENT; sent_at is the first marking's time).
 */
export async function markOutboxSent(db: Queryable, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `UPDATE event_outbox
     SET status = 'SENT', sent_at = COALESCE(sent_at, clock_timestamp()), attempts = attempts + 1, last_error = NULL
     WHERE id = ANY($1::bigint[])`,
    [ids],
  );
}
