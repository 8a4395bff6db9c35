import type { Queryable } from '../db/database.js';

/**
 * Records a failed publish: with `retryInMs` the row stays PENDING and becomes due again then
 * (OB-5 backoff); without, it becomes FAILED and keeps `error` for `aegis outbox failed`.
 *
 * Locking: the row is already locked by the claim in the same transaction. Not idempotent
 * (counts an attempt).
 */
export async function markOutboxAttemptFailed(db: Queryable, id: number, error: string, retryInMs: number | undefined): Promise<void> {
  await db.query(
    `UPDATE event_outbox
     SET attempts = attempts + 1,
         last_error = $2,
         status = CASE WHEN $3::integer IS NULL THEN 'FAILED' ELSE 'PENDING' END,
         next_attempt_at = clock_timestamp() + COALESCE($3::integer, 0) * interval '1 millisecond'
     WHERE id = $1`,
    [id, error.slice(0, 2000), retryInMs ?? null],
  );
}
