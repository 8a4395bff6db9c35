import type { Queryable } from '../db/database.js';

/**
 * Puts FAILED rows back to PENDING with a fresh attempt budget (`aegis outbox replay`): by id,
 * or all when `ids` is undefined. The requeue trigger NOTIFYs relays at commit. Because a FAILED
 * row holds back later rows of its aggregate, replaying it resumes that aggregate in order.
 *
 * Locking: row locks on the updated rows; a row being published is never FAILED, so this does
 * not wait on a relay. Idempotent: rows not FAILED are left alone. Returns the requeued ids.
 */
export async function requeueFailedOutbox(db: Queryable, ids: readonly number[] | undefined): Promise<number[]> {
  const rows = await db.query<{ id: string | number }>(
    `UPDATE event_outbox
     SET status = 'PENDING', attempts = 0, next_attempt_at = clock_timestamp()
     WHERE status = 'FAILED' AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))
     RETURNING id`,
    [ids === undefined ? null : ids],
  );
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}
