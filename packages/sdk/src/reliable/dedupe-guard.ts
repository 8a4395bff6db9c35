/**
 * Idempotency strength 1: a {@link DedupeStore} (JetStream KV or Redis) shared by every instance.
 * The id is leased while the handler runs (a crashed holder's lease runs out and the next
 * delivery takes over), completed with the response afterwards, released when the handler throws.
 * Stops at: a crash after the handler's side effect and before `complete()` — the redelivery runs
 * the handler again (see docs/guarantees.md).
 */
import type { DedupeStore } from '../dedupe/dedupe-store.js';
import type { GuardInput, GuardResult, IdempotencyGuard } from './idempotency-guard.js';

/** Key of a reliable call in the dedupe store (separate from event keys `<topic>.<group>.<id>`). */
export function reliableDedupeKey(serviceName: string, messageId: string): string {
  return `reliable.${serviceName}.${messageId}`;
}

export function dedupeGuard(store: DedupeStore, responseTtlMs: number): IdempotencyGuard {
  return {
    kind: 'dedupe',
    responseTtlMs,
    async run(input: GuardInput, invoke, afterEffect): Promise<GuardResult> {
      const key = reliableDedupeKey(input.serviceName, input.messageId);
      const claim = await store.claim(key, input.leaseMs);
      if (claim.state === 'done') return { kind: 'duplicate', response: claim.response };
      if (claim.state === 'in-progress') return { kind: 'busy', retryAfterMs: input.leaseMs };
      let response: unknown;
      try {
        response = await invoke(undefined);
      } catch (err) {
        // Let the retry claim at once; if the release fails the lease still runs out.
        await store.release(key).catch(() => undefined);
        throw err;
      }
      afterEffect();
      return { kind: 'processed', response, completion: store.complete(key, response, responseTtlMs) };
    },
  };
}
