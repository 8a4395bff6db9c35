/**
 * QoS 2 consumption: the handler runs only for a message id this group has not completed.
 * The id is claimed in the shared {@link DedupeStore} with a lease, completed after the handler
 * succeeds and released when it fails (so the retry can claim it at once). A duplicate of a
 * completed id is acknowledged without calling the handler. The first delivery of an SDK-made id
 * on NATS claims only if its handler outlives `claimGraceMs` (ADR 0026). A held lease is renewed
 * from the subscription's sweep while the handler runs (ADR 0027, {@link LeaseRenewer}).
 */
import type { ClaimResult, DedupeStore } from '../dedupe/dedupe-store.js';
import { errorText, type Delivery, type DeliveryInterceptor, type DeliveryNext, type Outcome } from './delivery.js';
import { LeaseRenewer, type HeldLease } from '../dedupe/lease-renewer.js';

export interface DedupeInterceptorOptions {
  readonly store: DedupeStore;
  /** Lease on a message id while its handler runs; a crashed holder's lease expires after it. */
  readonly leaseMs: number;
  /** How long a completed id is remembered. */
  readonly ttlMs: number;
  /** Reports store failures that do not change the outcome. */
  readonly onError: (err: unknown, what: string) => void;
  /**
   * A run found it does not hold its id's lease (a renewal or a late claim found another
   * holder's lease, a completion record, or a lapsed lease): the run goes on, but another copy
   * may run or have run beside it. @default nothing
   */
  readonly onLeaseLost?: (key: string, reason: string) => void;
}

/** Key of a message id in the store: scoped per topic and group, since each group processes it. */
export function dedupeKey(topic: string, group: string, messageId: string): string {
  return `${topic}.${group}.${messageId}`;
}

/** The interceptor plus a way to wait for completion records still being written. */
export interface DedupeStage {
  readonly interceptor: DeliveryInterceptor;
  /** Resolves when every started `complete`/`release` has settled (call on close). */
  drain(): Promise<void>;
  /** Renews the leases of running handlers that are due; called from the subscription's in-flight sweep. */
  readonly sweep: (now: number) => void;
}

/**
 * The completion record is written *alongside* the ack, not before it: if the write fails the
 * outcome is an ack anyway (the handler's side effect happened), so waiting for it would only add
 * a round trip per event. A crash before the record lands leaves the lease, which expires — the
 * same window as a crash between the side effect and `complete()` (docs/events.md).
 */
export function dedupeStage(options: DedupeInterceptorOptions): DedupeStage {
  const writes = new Set<Promise<void>>();
  const { store, leaseMs } = options;
  // Nothing waits for the record (it goes alongside the ack): a store may skip confirming it.
  const complete = store.completeUnconfirmed?.bind(store) ?? store.complete.bind(store);
  const lost = (key: string, reason: string) => options.onLeaseLost?.(key, reason);
  const renewer = new LeaseRenewer({ store, leaseMs, onLost: (key) => lost(key, 'lease renewal found the lease lost'), onError: options.onError });

  /** Records the outcome of a run that holds (`held`) or never took the lease. */
  const finish = async (key: string, outcome: Outcome, held: boolean): Promise<Outcome> => {
    if (outcome.type !== 'ack' && !held) return outcome; // nothing to release: the retry claims first
    const write = (outcome.type === 'ack' ? complete(key, true, options.ttlMs) : store.release(key))
      // The handler's outcome stands; a missing record only weakens dedupe for this id, and a
      // failed release only delays the retry until the lease expires.
      .catch((err: unknown) => options.onError(err, `dedupe ${outcome.type === 'ack' ? 'complete' : 'release'} of ${key}`))
      .finally(() => writes.delete(write));
    writes.add(write);
    // A failed attempt's release must land before the retry, or the retry finds its own lease.
    if (outcome.type !== 'ack') await write;
    return outcome;
  };

  /**
   * The end of a run that should hold the lease but found it lost (ADR 0027). Whatever the
   * record now says is someone else's: never release it, and never write the completion over
   * another holder's lease (their handler runs regardless; if it fails its release would erase
   * our record anyway, and its retry must find its own state). A succeeded run still records
   * itself when nobody holds the id (the lease lapsed unclaimed, or its taker failed and
   * released): it claims again, and completes only if that claim wins.
   */
  const finishLost = async (key: string, outcome: Outcome): Promise<Outcome> => {
    if (outcome.type !== 'ack') return outcome; // the retry claims first and finds the holder
    let again: ClaimResult;
    try {
      again = await store.claim(key, leaseMs);
    } catch (err) {
      options.onError(err, `dedupe claim after a lost lease of ${key}`);
      return outcome;
    }
    return again.state === 'claimed' ? finish(key, outcome, true) : outcome;
  };

  /**
   * The end of a run that claimed: stop renewing, then record the outcome by the lease's fate.
   * Not async: the common case (no renewal in flight) adds no promise to `finish`'s.
   */
  const finishHeld = (held: HeldLease, outcome: Outcome): Promise<Outcome> => {
    const renewing = renewer.end(held);
    // A renewal still in flight may yet find the lease lost: wait for its verdict.
    if (renewing !== undefined) return renewing.then(() => (held.lost ? finishLost(held.key, outcome) : finish(held.key, outcome, true)));
    return held.lost ? finishLost(held.key, outcome) : finish(held.key, outcome, true);
  };

  /**
   * The first delivery of an SDK-made id, young enough that no other copy can claim it before
   * `graceMs` has passed (ADR 0026): run now, claim only if the handler is still running then.
   * A late claim is renewed from then on like any other.
   */
  const runUnclaimed = async (key: string, delivery: Delivery, next: DeliveryNext, graceMs: number): Promise<Outcome> => {
    let late: Promise<{ readonly claim: ClaimResult; readonly held?: HeldLease } | undefined> | undefined;
    const timer = setTimeout(() => {
      const claimedAt = Date.now();
      late = store.claim(key, leaseMs).then(
        (claim) => ({ claim, held: claim.state === 'claimed' ? renewer.hold(key, claim.lease, claimedAt) : undefined }),
        (err: unknown) => {
          options.onError(err, `late dedupe claim of ${key}`);
          return undefined;
        },
      );
    }, graceMs);
    let outcome: Outcome;
    try {
      outcome = await next(delivery);
    } catch (err) {
      // `late` never rejects (its failure is reported above); a lease it took must stop renewing.
      void late?.then((l) => {
        if (l?.held !== undefined) void renewer.end(l.held);
      });
      throw err;
    } finally {
      clearTimeout(timer);
    }
    if (late === undefined) return finish(key, outcome, false);
    const result = await late;
    // No answer from the store: as if unclaimed (the window rules out another holder).
    if (result === undefined) return finish(key, outcome, false);
    if (result.held !== undefined) return finishHeld(result.held, outcome);
    // Not claimed: another copy got the id while this one ran, which the window rules out unless
    // the clocks or the server settings moved under us. The run happened; say so, and leave the
    // other holder's record alone.
    lost(key, `late claim found ${result.claim.state}`);
    return finishLost(key, outcome);
  };

  const interceptor: DeliveryInterceptor = async (delivery, next) => {
    const key = dedupeKey(delivery.topic, delivery.group, delivery.dedupeId);
    // A replay of an event whose first copy may still be running unclaimed in this group.
    if ((delivery.claimWaitMs ?? 0) > 0) return { type: 'busy', delayMs: delivery.claimWaitMs! };
    const graceMs = delivery.claimGraceMs ?? 0;
    if (graceMs > 0) return runUnclaimed(key, delivery, next, graceMs);
    const claimedAt = Date.now();
    let claim;
    try {
      claim = await store.claim(key, leaseMs);
    } catch (err) {
      return { type: 'fail', error: errorText(err), retryable: true };
    }
    if (claim.state === 'done') return { type: 'ack', duplicate: true };
    // Look again once the holder's lease could have run out (it may have crashed).
    if (claim.state === 'in-progress') return { type: 'busy', delayMs: leaseMs };
    const held = renewer.hold(key, claim.lease, claimedAt);
    let outcome: Outcome;
    try {
      outcome = await next(delivery);
    } catch (err) {
      void renewer.end(held); // a renewal in flight never rejects; nothing is written for this run
      throw err;
    }
    return finishHeld(held, outcome);
  };
  return {
    interceptor,
    async drain() {
      while (writes.size > 0) await Promise.all([...writes]);
    },
    sweep: (now: number) => renewer.sweep(now),
  };
}
