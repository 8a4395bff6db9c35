/**
 * Keeps the dedupe leases of running handlers alive (ADR 0027): QoS 2 events and exactly-once
 * calls with a `{ store }` (both claim a message id in a {@link DedupeStore} for `leaseMs` before
 * their handler runs). A handler running longer than the lease would lose it, and a second copy of
 * the id (a caller's republish, a replayed dead letter, a redelivery) could then claim it and run
 * beside the first. The sweep that already tells the broker a slow handler is still working — an
 * event subscription's, or the reliable receiver's in-flight sweep — calls
 * {@link LeaseRenewer.sweep}, which sends at most one renewal per held lease per sweep, and only for
 * runs that have not ended.
 *
 * A renewal is a compare-and-set in the store ({@link DedupeStore.renew}): it never takes a lease
 * someone else holds. When it finds the lease lost, the run is marked so, reported, and no longer
 * renewed; what its end then writes is its stage's rule (events/dedupe-interceptor.ts,
 * reliable/dedupe-guard.ts).
 */
import type { DedupeLease, DedupeStore } from './dedupe-store.js';

/** One claimed run's lease, from its claim to the end of its handler. */
export interface HeldLease {
  readonly key: string;
  /** The lease as last written: its holder's next write must be based on it (a KV revision). */
  readonly lease: DedupeLease | undefined;
  /** True once a renewal found the record no longer this run's lease. */
  readonly lost: boolean;
  /**
   * When the lease was last written (taken before the write was sent: errs early). A lease
   * written under a quarter lease ago is surely live; an older one may have lapsed if its
   * process stalled (ADR 0027, round 2).
   */
  readonly writtenAt: number;
}

interface Held extends HeldLease {
  lease: DedupeLease | undefined;
  writtenAt: number;
  /** The renewal in flight, if any. */
  renewing: Promise<void> | undefined;
  lost: boolean;
  /** Index in the renewer's list while renewed, -1 otherwise. */
  slot: number;
}

export interface LeaseRenewerOptions {
  /** Only `renew` is used: a record that is not a dedupe store's (a call's status record) can be renewed too. */
  readonly store: Pick<DedupeStore, 'renew'>;
  readonly leaseMs: number;
  /** A renewal found the lease lost: another holder's lease, a completion record, or none. */
  readonly onLost: (key: string) => void;
  /** A renewal could not reach the store; the next sweep tries again. */
  readonly onError: (err: unknown, what: string) => void;
}

export class LeaseRenewer {
  /**
   * Runs being renewed. An array with swap-remove, not a Set: every claimed event adds and
   * removes itself, and a Set costs ~0.2 µs per pair there (an object's identity hash), an
   * array a few ns.
   */
  private readonly held: Held[] = [];
  /**
   * A lease is renewed once it is this old. A quarter, not a third: sweeps come every third of
   * ack_wait, claimIdleMs or a call's ack timeout (at most a third of the lease), so a lease is
   * renewed while at least a third of it is left even when it was taken just after a sweep and
   * the next sweep's timer fires a millisecond early; a failed renewal is retried at the following sweep, still in time.
   */
  private readonly dueMs: number;

  constructor(private readonly options: LeaseRenewerOptions) {
    this.dueMs = Math.floor(options.leaseMs / 4);
  }

  /**
   * Starts renewing `lease`, written at `writtenAt`, until {@link end}. A store without `renew`,
   * or a claim that returned no lease, is held without renewals (the lease runs out as before).
   */
  hold(key: string, lease: DedupeLease | undefined, writtenAt: number): HeldLease {
    const held: Held = { key, lease, writtenAt, renewing: undefined, lost: false, slot: -1 };
    if (lease !== undefined && this.options.store.renew !== undefined) held.slot = this.held.push(held) - 1;
    return held;
  }

  /**
   * Stops renewing. Returns the renewal still in flight, if any: wait for it before writing the
   * run's outcome, since it may yet find the lease lost.
   */
  end(held: HeldLease): Promise<void> | undefined {
    const h = held as Held;
    this.drop(h);
    return h.renewing;
  }

  /** Runs whose lease is being renewed (ended runs are not). */
  get size(): number {
    return this.held.length;
  }

  /** One renewal for every held lease written at least `leaseMs / 4` ago and not being renewed. */
  sweep(now: number): void {
    for (const h of this.held) {
      if (h.renewing !== undefined || now - h.writtenAt < this.dueMs) continue;
      // Cleared in a callback (always later), so a store that fails at once cannot leave it set.
      h.renewing = this.renew(h, now).finally(() => (h.renewing = undefined));
    }
  }

  private async renew(h: Held, now: number): Promise<void> {
    try {
      const next = await this.options.store.renew!(h.lease!, this.options.leaseMs);
      if (next === undefined) {
        h.lost = true;
        this.drop(h);
        this.options.onLost(h.key);
      } else {
        h.lease = next;
        h.writtenAt = now;
      }
    } catch (err) {
      // Still held as far as we know; the next sweep tries again.
      this.options.onError(err, `dedupe lease renewal of ${h.key}`);
    }
  }

  private drop(h: Held): void {
    if (h.slot < 0) return;
    const last = this.held.pop()!;
    if (last !== h) {
      this.held[h.slot] = last;
      last.slot = h.slot;
    }
    h.slot = -1;
  }
}
