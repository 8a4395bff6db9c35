import type { NamedStatement, Transaction, TransactionOptions } from '../db/database.js';
import type { DomainEvent, OutboxRecord } from '../types.js';

interface ClaimRow {
  id: string | number;
  event_id: string;
  topic: string;
  key: string;
  payload: DomainEvent;
  headers: Record<string, string>;
  attempts: number;
  created_at: Date | string;
}

/** How a claim's transaction must be opened: READ COMMITTED (see below) and the claim's plan setting. */
export const CLAIM_TRANSACTION: TransactionOptions = Object.freeze({
  isolation: 'READ_COMMITTED',
  localSettings: Object.freeze({ enable_sort: 'off' }),
});

const claimStatements = new Map<number, NamedStatement>();

/** The claim of up to `limit` heads as a named statement (for {@link Transaction.prefetchNext}). */
export function claimStatement(limit: number): NamedStatement {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`claim limit must be a positive integer, got ${limit}`);
  let statement = claimStatements.get(limit);
  if (statement === undefined) {
    statement = {
      name: `aegis_outbox_claim_heads_v1_${limit}`,
      text: `SELECT o.id, o.event_id, o.topic, o.key, o.payload, o.headers, o.attempts, o.created_at
     FROM event_outbox o
     WHERE o.status = 'PENDING'
       AND o.next_attempt_at <= clock_timestamp()
       AND NOT EXISTS (
         SELECT 1 FROM event_outbox e
         WHERE e.key = o.key AND e.id < o.id AND e.status <> 'SENT')
     ORDER BY o.id
     LIMIT ${limit}
     FOR UPDATE OF o SKIP LOCKED`,
    };
    claimStatements.set(limit, statement);
  }
  return statement;
}

/**
 * Claims the oldest due PENDING row of up to `limit` aggregates: a row is claimable only when its
 * aggregate has no earlier row that is not SENT (PENDING, retrying, being published by another
 * relay, or FAILED). That guard is what keeps order per aggregate across relays and retries.
 *
 * Claiming is by status, never by a high-water mark: a row whose sequence number was taken early
 * but committed late is simply PENDING when it becomes visible, and is claimed then.
 *
 * Locking: FOR UPDATE SKIP LOCKED on the claimed rows, held until the caller's transaction ends
 * (after publishing and marking). Another relay skips them, and its guard sees them as not yet
 * SENT, so it also skips every later row of those aggregates. If this relay dies, its connection
 * closes, the locks go, and the rows are PENDING again (re-published; `Nats-Msg-Id` dedupes).
 * Run it in READ COMMITTED so a row just marked SENT by another relay is re-checked, not skipped:
 * open the transaction with {@link CLAIM_TRANSACTION}.
 *
 * Plan: the walk must follow `event_outbox_pending` in id order and stop after `limit` heads
 * (well under a millisecond). Without statistics on the table — a fresh database, or a burst
 * before autovacuum analyzes it — PostgreSQL instead reads *every* pending row, checks each for
 * an earlier unsent row and sorts the heads: 15–35 ms per claim at 5,000 pending rows, growing
 * with the backlog, which made the relay 5× slower than a plain loop exactly when it had work.
 * `enable_sort = off` for the claiming transaction ({@link CLAIM_TRANSACTION}, a `SET LOCAL` in
 * the opening message) leaves the ordered index walk as the only reasonable plan; it is the plan
 * PostgreSQL picks by itself once the table is analyzed.
 *
 * The claim is a named prepared statement without parameters (`limit` is a checked integer in
 * its text and name), so each connection parses and plans it once and then only executes the
 * cached plan: planning the anti-join was ~0.1–0.2 ms of server CPU per claim (ADR 0013, round
 * 5). That first plan — and any re-plan after the table's statistics or schema change — is made
 * at Bind, after the opening's `SET LOCAL enable_sort` ran in the same message.
 */
export async function claimOutboxHeads(tx: Transaction, limit: number): Promise<OutboxRecord[]> {
  const rows = await tx.query<ClaimRow>(claimStatement(limit));
  return rows.map((r) => ({
    id: Number(r.id),
    eventId: r.event_id,
    topic: r.topic,
    key: r.key,
    payload: r.payload,
    headers: r.headers,
    attempts: Number(r.attempts),
    // node-postgres already made it a Date; parse only what another client left as text.
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
  }));
}
