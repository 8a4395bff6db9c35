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

export function dedupeInterceptor(options: DedupeInterceptorOptions): DeliveryInterceptor {
  return async (delivery, next) => {
    const key = dedupeKey(delivery.topic, delivery.group, delivery.messageId);
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
    try {
      if (outcome.type === 'ack') await options.store.complete(key, true, options.ttlMs);
      else await options.store.release(key);
    } catch (err) {
      // The handler's outcome stands; a missing record only weakens dedupe for this id, and a
      // failed release only delays the retry until the lease expires.
      options.onError(err, `dedupe ${outcome.type === 'ack' ? 'complete' : 'release'} of ${key}`);
    }
    return outcome;
  };
}
