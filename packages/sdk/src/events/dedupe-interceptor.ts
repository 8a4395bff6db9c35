/**
 * QoS 2 consumption: the handler runs only for a message id this group has not completed.
 * The id is claimed in the shared {@link DedupeStore} with a lease, completed after the handler
 * succeeds and released when it fails (so the retry can claim it at once). A duplicate of a
 * completed id is acknowledged without calling the handler. The first delivery of an SDK-made id
 * on NATS claims only if its handler outlives `claimGraceMs` (ADR 0026).
 */
import type { ClaimResult, DedupeStore } from '../dedupe/dedupe-store.js';
import { errorText, type Delivery, type DeliveryInterceptor, type DeliveryNext, type Outcome } from './delivery.js';

export interface DedupeInterceptorOptions {
  readonly store: DedupeStore;
  /** Lease on a message id while its handler runs; a crashed holder's lease expires after it. */
  readonly leaseMs: number;
  /** How long a completed id is remembered. */
  readonly ttlMs: number;
  /** Reports store failures that do not change the outcome. */
  readonly onError: (err: unknown, what: string) => void;
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
   * The first delivery of an SDK-made id, young enough that no other copy can claim it before
   * `graceMs` has passed (ADR 0026): run now, claim only if the handler is still running then.
   */
  const runUnclaimed = async (key: string, delivery: Delivery, next: DeliveryNext, graceMs: number): Promise<Outcome> => {
    let late: Promise<ClaimResult | undefined> | undefined;
    const timer = setTimeout(() => {
      late = store.claim(key, leaseMs).catch((err: unknown) => {
        options.onError(err, `late dedupe claim of ${key}`);
        return undefined;
      });
    }, graceMs);
    let outcome: Outcome;
    try {
      outcome = await next(delivery);
    } finally {
      clearTimeout(timer);
    }
    if (late === undefined) return finish(key, outcome, false);
    const claim = await late;
    // Not claimed: another copy got the id while this one ran, which the window rules out unless
    // the clocks or the server settings moved under us. The run happened; say so, and leave the
    // other holder's lease alone.
    if (claim?.state !== 'claimed') options.onError(new Error(`late claim found ${claim?.state ?? 'no answer'}`), `late dedupe claim of ${key}`);
    return finish(key, outcome, claim?.state === 'claimed');
  };

  const interceptor: DeliveryInterceptor = async (delivery, next) => {
    const key = dedupeKey(delivery.topic, delivery.group, delivery.dedupeId);
    // A replay of an event whose first copy may still be running unclaimed in this group.
    if ((delivery.claimWaitMs ?? 0) > 0) return { type: 'busy', delayMs: delivery.claimWaitMs! };
    const graceMs = delivery.claimGraceMs ?? 0;
    if (graceMs > 0) return runUnclaimed(key, delivery, next, graceMs);
    let claim;
    try {
      claim = await store.claim(key, leaseMs);
    } catch (err) {
      return { type: 'fail', error: errorText(err), retryable: true };
    }
    if (claim.state === 'done') return { type: 'ack', duplicate: true };
    // Look again once the holder's lease could have run out (it may have crashed).
    if (claim.state === 'in-progress') return { type: 'busy', delayMs: leaseMs };
    return finish(key, await next(delivery), true);
  };
  return {
    interceptor,
    async drain() {
      while (writes.size > 0) await Promise.all([...writes]);
    },
  };
}
