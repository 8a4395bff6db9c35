/**
 * The shared de-duplication store behind QoS 2 events (issue 5) and, later, exactly-once calls.
 *
 * Receivers of the same message id may run in different processes (a redelivery lands on another
 * subscriber), so the store lives in the broker every instance shares: a JetStream KV bucket or
 * Redis. A claim is a *lease*, not a lock held forever: a holder that crashes mid-handler stops
 * renewing nothing, its lease simply runs out and the next delivery claims the id again.
 *
 * What it promises (DESIGN "two strengths of dedupe", strength 1): a completed id is never handed
 * to a handler again while its record lives (`ttlMs`). A crash between the handler's side effect
 * and `complete()` lets the id be processed a second time — use a transactional inbox when the
 * side effect must be exactly-once.
 */

/** The result of {@link DedupeStore.claim}. */
export type ClaimResult =
  /** The caller now holds the lease and must `complete()` or `release()` the id. */
  | { readonly state: 'claimed' }
  /** The id was completed before; `response` is what the first holder stored. */
  | { readonly state: 'done'; readonly response: unknown }
  /** Another holder's lease is live; try again after the lease could have expired. */
  | { readonly state: 'in-progress' };

/** A store of processed message ids shared by every receiver of a stream of messages. */
export interface DedupeStore {
  /** Claims `id` for `leaseMs` unless it is done or leased by someone else. */
  claim(id: string, leaseMs: number): Promise<ClaimResult>;
  /**
   * Marks `id` done with `response`, kept for `ttlMs` (or the store's fixed retention). Resolves
   * once the store has the record (the reliable receiver acknowledges only after that).
   */
  complete(id: string, response: unknown, ttlMs: number): Promise<void>;
  /**
   * {@link complete} for a caller that does not wait for the record to be stored (QoS 2 events
   * write it alongside the ack, best effort): resolves once the record is on its way, so a store
   * may skip the confirmation (ADR 0026). Stores without it are used through `complete`.
   */
  completeUnconfirmed?(id: string, response: unknown, ttlMs: number): Promise<void>;
  /** Gives up a claim (the handler failed) so the next delivery can claim it at once. */
  release(id: string): Promise<void>;
}

/** The record stored per id, MessagePack-encoded. `until` bounds a lease (epoch ms). */
export type DedupeRecord =
  | { readonly s: 'lease'; readonly until: number }
  | { readonly s: 'done'; readonly r: unknown };

/** Reads a decoded record defensively: anything unexpected counts as an expired lease. */
export function asDedupeRecord(value: unknown): DedupeRecord {
  if (typeof value === 'object' && value !== null) {
    const v = value as Record<string, unknown>;
    if (v.s === 'done') return { s: 'done', r: v.r };
    if (v.s === 'lease' && typeof v.until === 'number') return { s: 'lease', until: v.until };
  }
  return { s: 'lease', until: 0 };
}
