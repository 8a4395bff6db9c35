/** Operator actions behind `aegis outbox failed|replay|stats`, over the same SQL as the relay. */
import type { Queryable } from '../db/database.js';
import { listOutboxRows } from '../sql/list-outbox-rows.js';
import { requeueFailedOutbox } from '../sql/requeue-failed-outbox.js';
import { outboxStats } from '../sql/outbox-stats.js';
import type { OutboxRowSummary, OutboxStats } from '../types.js';

/** FAILED rows, oldest first, with their last error. */
export function listFailed(db: Queryable, limit = 100): Promise<OutboxRowSummary[]> {
  return listOutboxRows(db, 'FAILED', limit);
}

/** Requeues FAILED rows (`ids`, or all when undefined); returns the ids requeued. */
export function replayFailed(db: Queryable, ids?: readonly number[]): Promise<number[]> {
  return requeueFailedOutbox(db, ids);
}

/** Pending/sent/failed counts and the oldest pending age. */
export function stats(db: Queryable): Promise<OutboxStats> {
  return outboxStats(db);
}
