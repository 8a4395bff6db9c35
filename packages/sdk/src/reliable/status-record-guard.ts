/**
 * Idempotency strength 1 on the message's own status record (ADR 0053): the record in
 * `<NS>_MSG_STATUS` is at once the processing claim (a lease), the state and the cached response,
 * so a call costs two KV writes on the receiver (claim, outcome) instead of four. The claim is a
 * create, or a compare-and-set over a record nobody holds (or whose lease ran out); the outcome
 * is a compare-and-set on the claim's revision, so a delivery that lost its lease to a takeover
 * cannot overwrite the new holder's record. Same limit as {@link ./dedupe-guard.ts}: a crash after
 * the side effect and before the outcome write lets the redelivery run the handler again.
 *
 * The first delivery of an SDK-generated id (`onlyCopy`) skips the claim: no other copy of the id
 * can exist — the id is fresh, and every caller publish expects no message on the id's subject, so
 * a re-send is refused while this one is in the stream — and a redelivery of this copy comes only
 * after the ack wait, when a lease would have run out too. Its outcome is a create, which fails
 * if such a redelivery has claimed the record meanwhile. One KV write per call on that path.
 */
import { toAegisError } from '@aegis-ipc/protocol';
import type { GuardInput, GuardResult, IdempotencyGuard } from './idempotency-guard.js';
import type { MessageStatus, MessageStatusStore } from './message-status.js';

export function statusRecordGuard(statuses: MessageStatusStore, responseTtlMs: number): IdempotencyGuard {
  return {
    kind: 'status',
    responseTtlMs,
    async run(input: GuardInput, invoke, afterEffect): Promise<GuardResult> {
      if (input.pending === undefined) throw new Error('the status-record guard needs the pending record');
      // The only copy: no claim, and its records are create-only writes.
      if (input.onlyCopy === true) return runHandler(input.pending, (record) => statuses.createRecord(record), invoke, afterEffect);
      const pending = input.pending();
      const now = Date.now();
      const claim = await statuses.claim(
        input.messageId,
        (current) => ({ ...pending, created_at: current?.created_at ?? pending.created_at, last_error: current?.last_error ?? null, lease_until: now + input.leaseMs }),
        now,
      );
      if (claim.state === 'in-progress') return { kind: 'busy', retryAfterMs: claim.retryAfterMs };
      if (claim.state === 'terminal') {
        return claim.status.state === 'ACKNOWLEDGED' ? { kind: 'duplicate', response: claim.status.response } : { kind: 'terminal', status: claim.status };
      }
      // Every write after the claim is a compare-and-set on its revision.
      return runHandler(() => claim.record, (record) => statuses.replace(record, claim.revision), invoke, afterEffect);
    },
  };
}

/**
 * Runs the handler. `write` stores its records: a compare-and-set on the claim's revision, or (the
 * `onlyCopy` path) a create-only write. A failure writes the error over `base` (built only then)
 * and gives the lease back, so the retry claims at once and the status shows why.
 */
async function runHandler(
  base: () => MessageStatus, write: (record: MessageStatus) => Promise<number>, invoke: (tx: undefined) => Promise<unknown>, afterEffect: () => void,
): Promise<GuardResult> {
  let response: unknown;
  try {
    response = await invoke(undefined);
  } catch (err) {
    await write(failedAttempt(base(), err)).catch(() => undefined);
    throw err;
  }
  afterEffect();
  return {
    kind: 'processed',
    response,
    completion: Promise.resolve(),
    // The write's promise itself: no extra async layer per call.
    recordOutcome: (status) => write(released(status)) as Promise<unknown> as Promise<void>,
  };
}

/** `record` after a failed attempt: the error recorded, the lease given up. */
function failedAttempt(record: MessageStatus, err: unknown): MessageStatus {
  const e = toAegisError(err);
  return { ...record, last_error: `${e.code}: ${e.message}`, lease_until: null, updated_at: new Date().toISOString() };
}

/** The outcome record with the lease given up (the receiver builds it so already: no copy then). */
function released(status: MessageStatus): MessageStatus {
  return status.lease_until === null ? status : { ...status, lease_until: null };
}
