/**
 * Idempotency strength 1: a {@link DedupeStore} (JetStream KV or Redis) shared by every instance.
 * The id is leased while the handler runs (a crashed holder's lease runs out and the next
 * delivery takes over), completed with the response afterwards, released when the handler throws.
 * A running handler's lease is renewed from the receiver's in-flight sweep (ADR 0027), so a copy
 * of the id that arrives meanwhile waits instead of running beside it.
 * Stops at: a crash after the handler's side effect and before `complete()` — the redelivery runs
 * the handler again (see docs/guarantees.md).
 */
import type { DedupeStore } from '../dedupe/dedupe-store.js';
import { LeaseRenewer } from '../dedupe/lease-renewer.js';
import type { GuardInput, GuardResult, IdempotencyGuard } from './idempotency-guard.js';

/** Key of a reliable call in the dedupe store (separate from event keys `<topic>.<group>.<id>`). */
export function reliableDedupeKey(serviceName: string, messageId: string): string {
  return `reliable.${serviceName}.${messageId}`;
}

export interface DedupeGuardOptions {
  readonly store: DedupeStore;
  /** How long a stored response answers duplicates. */
  readonly responseTtlMs: number;
  /** The lease taken per run (the ack timeout); renewed while the handler runs. */
  readonly leaseMs: number;
  /** A renewal found the lease lost (another holder's lease, a completion record, or none). */
  readonly onLeaseLost: (key: string) => void;
  /** A renewal could not reach the store; the next sweep tries again. */
  readonly onError: (err: unknown, what: string) => void;
}

export function dedupeGuard(options: DedupeGuardOptions): IdempotencyGuard {
  const { store, responseTtlMs, leaseMs } = options;
  const renewer = new LeaseRenewer({ store, leaseMs, onLost: options.onLeaseLost, onError: options.onError });

  /**
   * The end of a run whose lease was found lost (ADR 0027, "exactly-once calls"): whatever the
   * record says now is not this run's, and a call's answer must be the one recorded for its id
   * (duplicates are answered from it). So the run claims again: if nobody holds the id (the lease
   * lapsed unclaimed, or its taker failed and released), it ends as if it had kept the lease;
   * otherwise it answers with the recorded response, or looks again later while another holder
   * runs — never completing or releasing over another holder's record.
   */
  const endLost = async (key: string, end: { readonly response: unknown } | { readonly error: unknown }): Promise<GuardResult> => {
    const again = await store.claim(key, leaseMs);
    if (again.state === 'done') return { kind: 'duplicate', response: again.response };
    if (again.state === 'in-progress') return { kind: 'busy', retryAfterMs: leaseMs };
    if ('error' in end) {
      await store.release(key).catch(() => undefined);
      throw end.error;
    }
    return { kind: 'processed', response: end.response, completion: store.complete(key, end.response, responseTtlMs) };
  };

  return {
    kind: 'dedupe',
    responseTtlMs,
    sweep: (now) => renewer.sweep(now),
    async run(input: GuardInput, invoke, afterEffect): Promise<GuardResult> {
      const key = reliableDedupeKey(input.serviceName, input.messageId);
      const claimedAt = Date.now(); // before the claim is sent: the renewal errs early
      const claim = await store.claim(key, leaseMs);
      if (claim.state === 'done') return { kind: 'duplicate', response: claim.response };
      if (claim.state === 'in-progress') return { kind: 'busy', retryAfterMs: leaseMs };
      const held = renewer.hold(key, claim.lease, claimedAt);
      let response: unknown;
      try {
        response = await invoke(undefined);
      } catch (err) {
        // A renewal still in flight may yet find the lease lost: wait for its verdict (only then).
        const renewing = renewer.end(held);
        if (renewing !== undefined) await renewing;
        if (held.lost) return endLost(key, { error: err });
        // Let the retry claim at once; if the release fails the lease still runs out.
        await store.release(key).catch(() => undefined);
        throw err;
      }
      afterEffect();
      const renewing = renewer.end(held);
      if (renewing !== undefined) await renewing;
      if (held.lost) return endLost(key, { response });
      return { kind: 'processed', response, completion: store.complete(key, response, responseTtlMs) };
    },
  };
}
