import type { NamedStatement, Transaction } from '../db/database.js';

const MARK_SENT: NamedStatement = {
  name: 'aegis_outbox_mark_sent_v1',
  text: `UPDATE event_outbox
     SET status = 'SENT', sent_at = COALESCE(sent_at, clock_timestamp()), attempts = attempts + 1, last_error = NULL
     WHERE id = ANY($1::bigint[])`,
};

/**
 * Marks published rows SENT, as the relay transaction's last statement, sent with its COMMIT (one
 * round trip for both). Locking: the rows are already locked by the claim in the same
 * transaction. Idempotent (SENT stays SENT; sent_at is the first marking's time).
 */
export function markOutboxSentAtCommit(tx: Transaction, ids: readonly number[]): void {
  if (ids.length === 0) return;
  tx.queryAtCommit(MARK_SENT, [ids]);
}
