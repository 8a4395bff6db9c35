/**
 * QoS 2 consumption: the handler runs only for a message id this group has not completed.
 * The id is claimed in the shared {@link DedupeStore} with a lease, completed after the handler
 * succeeds and released when it fails (so the retry can claim it at once). A duplicate of a
 * completed id is acknowledged without calling the handler.
 */
import type { DedupeStore } from '../dedupe/dedupe-store.js';
import { errorText, type DeliveryInterceptor } from './delivery.js';

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
  const interceptor: DeliveryInterceptor = async (delivery, next) => {
    const key = dedupeKey(delivery.topic, delivery.group, delivery.dedupeId);
    let claim;
    try {
      claim = await options.store.claim(key, options.leaseMs);
    } catch (err) {
      return { type: 'fail', error: errorText(err), retryable: true };
    }
    if (claim.state === 'done') return { type: 'ack', duplicate: true };
    // Look again once the holder's lease could have run out (it may have crashed).
    if (claim.state === 'in-progress') return { type: 'busy', delayMs: options.leaseMs };
    const outcome = await next(delivery);
    const write = (outcome.type === 'ack' ? options.store.complete(key, true, options.ttlMs) : options.store.release(key))
      // The handler's outcome stands; a missing record only weakens dedupe for this id, and a
      // failed release only delays the retry until the lease expires.
      .catch((err: unknown) => options.onError(err, `dedupe ${outcome.type === 'ack' ? 'complete' : 'release'} of ${key}`))
      .finally(() => writes.delete(write));
    writes.add(write);
    // A failed attempt's release must land before the retry, or the retry finds its own lease.
    if (outcome.type !== 'ack') await write;
    return outcome;
  };
  return {
    interceptor,
    async drain() {
      while (writes.size > 0) await Promise.all([...writes]);
    },
  };
}
