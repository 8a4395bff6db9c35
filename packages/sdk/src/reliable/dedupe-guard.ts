/**
 * Idempotency strength 1: a {@link DedupeStore} (JetStream KV or Redis) shared by every instance.
 * The id is leased while the handler runs (a crashed holder's lease runs out and the next
 * delivery takes over), completed with the response afterwards, released when the handler throws.
 * A running handler's lease is renewed from the receiver's in-flight sweep (ADR 0027), so a copy
 * of the id that arrives meanwhile waits instead of running beside it, and the run's completion
 * and release are compare-and-sets on its lease (where the store has them), so a run that
 * stalled past its lease after its last renewal never writes over the copy that took it over.
 * Stops at: a crash after the handler's side effect and before `complete()` — the redelivery runs
 * the handler again (see docs/guarantees.md).
 */
import { AegisError } from '@aegis-ipc/protocol';
import type { DedupeLease, DedupeStore } from '../dedupe/dedupe-store.js';
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
  /**
   * A renewal, or the run's conditional completion or release, found the lease lost (another
   * holder's lease, a completion record, or none).
   */
  readonly onLeaseLost: (key: string) => void;
  /** A renewal could not reach the store; the next sweep tries again. */
  readonly onError: (err: unknown, what: string) => void;
}

export function dedupeGuard(options: DedupeGuardOptions): IdempotencyGuard {
  const { store, responseTtlMs, leaseMs, onLeaseLost } = options;
  const renewer = new LeaseRenewer({ store, leaseMs, onLost: onLeaseLost, onError: options.onError });
  /**
   * A lease written less than this long ago is surely live (over three quarters of it left, the
   * renewal's due age): its completion is sent beside the status write, as before. An older one
   * may have lapsed while the process stalled, so its completion is settled first.
   */
  const liveMs = Math.floor(leaseMs / 4);

  /** Completes only while `lease` is the record; stores without the compare-and-set write as before. */
  const completeIfHeld = (key: string, lease: DedupeLease | undefined, response: unknown): Promise<boolean> =>
    lease !== undefined && store.completeIfHeld !== undefined
      ? store.completeIfHeld(lease, response, responseTtlMs)
      : store.complete(key, response, responseTtlMs).then(() => true);

  /** Releases only while `lease` is the record. An unreachable store counts as released: the lease runs out. */
  const releaseIfHeld = (key: string, lease: DedupeLease | undefined): Promise<boolean> =>
    (lease !== undefined && store.releaseIfHeld !== undefined ? store.releaseIfHeld(lease) : store.release(key).then(() => true)).catch(() => true);

  /**
   * The completion of a lease that is surely live, sent beside the status write. Refused only if
   * the lease was lost all the same (a claimer's clock far ahead of ours, a hand-written record):
   * counted, and the outcome is not recorded, so the delivery is redelivered and answered from
   * whatever the record says.
   */
  const completion = (key: string, lease: DedupeLease | undefined, response: unknown): Promise<void> =>
    completeIfHeld(key, lease, response).then((written) => {
      if (written) return;
      onLeaseLost(key);
      throw new AegisError('STORAGE_FAILURE', `the outcome of ${key} was not recorded: its dedupe record is no longer this run's lease`);
    });

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
      await releaseIfHeld(key, again.lease);
      throw end.error;
    }
    return { kind: 'processed', response: end.response, completion: completion(key, again.lease, end.response) };
  };

  return {
    kind: 'dedupe',
    responseTtlMs,
    sweep: (now) => renewer.sweep(now),
    // A store that cannot peek is never asked: the copy parks as before round 3.
    held: store.peek === undefined ? undefined : async (messageId, serviceName) => (await store.peek!(reliableDedupeKey(serviceName, messageId))) === 'held',
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
        // Let the retry claim at once — unless the lease lapsed and was taken meanwhile.
        if (await releaseIfHeld(key, held.lease)) throw err;
        onLeaseLost(key);
        return endLost(key, { error: err });
      }
      afterEffect();
      const renewing = renewer.end(held);
      if (renewing !== undefined) await renewing;
      if (held.lost) return endLost(key, { response });
      if (Date.now() - held.writtenAt < liveMs) return { kind: 'processed', response, completion: completion(key, held.lease, response) };
      // Written long enough ago to have lapsed if this process stalled after its last renewal
      // (ADR 0027 round 2): settle the completion before the status says anything, so a lost
      // lease ends by the rule above instead of recording this run's response.
      if (await completeIfHeld(key, held.lease, response)) return { kind: 'processed', response, completion: Promise.resolve() };
      onLeaseLost(key);
      return endLost(key, { response });
    },
  };
}
