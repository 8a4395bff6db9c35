/**
 * The shared de-duplication store behind QoS 2 events (issue 5) and, later, exactly-once calls.
 *
 * Receivers of the same message id may run in different processes (a redelivery lands on another
 * subscriber), so the store lives in the broker every instance shares: a JetStream KV bucket or
 * Redis. A claim is a *lease*, not a lock held forever: a live holder renews it while its handler
 * runs (ADR 0027); a holder that crashes stops renewing, its lease runs out and the next delivery
 * claims the id again.
 *
 * What it promises (DESIGN "two strengths of dedupe", strength 1): a completed id is never handed
 * to a handler again while its record lives (`ttlMs`). A crash between the handler's side effect
 * and `complete()` lets the id be processed a second time — use a transactional inbox when the
 * side effect must be exactly-once.
 */

import { randomBytes } from 'node:crypto';

/**
 * A lease as its holder knows it: what {@link DedupeStore.renew} needs to extend it without
 * touching anyone else's. Stores add what their compare-and-set needs (a KV revision, the
 * record's bytes); callers pass it back unchanged.
 */
export interface DedupeLease {
  readonly id: string;
  /** Written into the lease record: names the holder, so a renewal never extends another's lease. */
  readonly owner: string;
}

/** The result of {@link DedupeStore.claim}. */
export type ClaimResult =
  /**
   * The caller now holds the lease and must `complete()` or `release()` the id. `lease` is set
   * by stores that can {@link DedupeStore.renew} it.
   */
  | { readonly state: 'claimed'; readonly lease?: DedupeLease }
  /** The id was completed before; `response` is what the first holder stored. */
  | { readonly state: 'done'; readonly response: unknown }
  /** Another holder's lease is live; try again after the lease could have expired. */
  | { readonly state: 'in-progress' };

/** What {@link DedupeStore.peek} found: a live lease (`held`), a completion (`done`), or neither (`free`). */
export type DedupePeek = 'held' | 'done' | 'free';

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
  /**
   * {@link complete} only while the record is still `lease` (compare-and-set on the holder's
   * revision or owner token, as {@link renew}): resolves `false`, writing nothing, when the lease
   * was lost — another holder's lease, a completion, a release or (Redis) a lapse. Exactly-once
   * calls complete through it, so a run that stalled past its lease after its last renewal cannot
   * overwrite another copy's record (ADR 0027, round 2). Stores without it are completed
   * unconditionally.
   * @throws AegisError `STORAGE_FAILURE` when the store cannot be reached.
   */
  completeIfHeld?(lease: DedupeLease, response: unknown, ttlMs: number): Promise<boolean>;
  /** Gives up a claim (the handler failed) so the next delivery can claim it at once. */
  release(id: string): Promise<void>;
  /**
   * {@link release} only while the record is still `lease`; `false`, deleting nothing, when it
   * was lost (so a failed run never erases another holder's lease or record).
   * @throws AegisError `STORAGE_FAILURE` when the store cannot be reached.
   */
  releaseIfHeld?(lease: DedupeLease): Promise<boolean>;
  /**
   * Extends a lease this caller holds to `leaseMs` from now — only if the record is still that
   * lease (compare-and-set on the holder's revision or owner token): a renewal never takes an id
   * someone else claimed or completed meanwhile. Resolves the lease to renew next time, or
   * `undefined` when it is lost (another holder's lease, a completion record, or — on Redis —
   * no record: it lapsed). Stores without it are not renewed (a handler running longer than the
   * lease loses it, as before ADR 0027).
   * @throws AegisError `STORAGE_FAILURE` when the store cannot be reached (the lease may still be held).
   */
  renew?(lease: DedupeLease, leaseMs: number): Promise<DedupeLease | undefined>;
  /**
   * Reads what the record of `id` is now, writing nothing (never takes a lease): an exactly-once
   * call's copy whose deliveries ran out asks it whether another delivery still holds the id before
   * it parks the id (ADR 0027, round 3). Stores without it are never asked: such a copy parks as before.
   * @throws AegisError `STORAGE_FAILURE` when the store cannot be reached.
   */
  peek?(id: string): Promise<DedupePeek>;
}

/**
 * A new owner token for a lease: unique per claim across processes (a random per-process part and
 * a counter), and cheap, since every claim makes one.
 */
export function newLeaseOwner(): string {
  return OWNER_PREFIX + (++ownerCount).toString(36);
}
const OWNER_PREFIX = `${randomBytes(9).toString('base64url')}.`;
let ownerCount = 0;

/**
 * The record stored per id, MessagePack-encoded. `until` bounds a lease (epoch ms); `o` is its
 * holder's owner token (absent in records written before ADR 0027).
 */
export type DedupeRecord =
  | { readonly s: 'lease'; readonly until: number; readonly o?: string }
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
