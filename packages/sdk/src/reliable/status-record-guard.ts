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
 *
 * A claimed record's lease is renewed while the handler runs (ADR 0027): from the receiver's
 * in-flight sweep, by compare-and-set on the revision of the record's last write, and the outcome
 * is written on the revision of the last renewal. A run whose renewal — or, after a stall past the
 * lease, whose own write — found the record moved on writes nothing over it: its outcome write
 * fails its compare-and-set as before (the delivery is redelivered and answered from the record),
 * and a failed run looks again later instead of ending the message.
 */
import { toAegisError } from '@aegis-ipc/protocol';
import type { DedupeLease } from '../dedupe/dedupe-store.js';
import { LeaseRenewer, type HeldLease } from '../dedupe/lease-renewer.js';
import type { GuardInput, GuardResult, IdempotencyGuard } from './idempotency-guard.js';
import { leaseLive, recordMovedOn, type MessageStatus, type MessageStatusStore } from './message-status.js';

/** How long a claimed record's lease is and how it is renewed while its handler runs. */
export interface StatusLeaseRenewal {
  /** The lease taken per claim and per renewal (the ack timeout): one value, so the two never disagree. */
  readonly leaseMs: number;
  /** A renewal, or the run's compare-and-set write, found the record taken over or ended by another delivery. */
  readonly onLeaseLost: (messageId: string) => void;
  /** A renewal could not reach the bucket; the next sweep tries again. */
  readonly onError: (err: unknown, what: string) => void;
}

/** A claimed record's lease: the record as claimed and the revision of its last write. */
interface StatusLease extends DedupeLease {
  readonly record: MessageStatus;
  readonly revision: number;
}

export function statusRecordGuard(statuses: MessageStatusStore, responseTtlMs: number, renewal: StatusLeaseRenewal): IdempotencyGuard {
  const { leaseMs } = renewal;
  const renewer = new LeaseRenewer({
    store: {
      async renew(lease: DedupeLease, ms: number) {
        const held = lease as StatusLease;
        const revision = await statuses.renewLease(held.record, held.revision, Date.now() + ms);
        return revision === undefined ? undefined : { ...held, revision };
      },
    },
    leaseMs,
    onLost: renewal.onLeaseLost,
    onError: renewal.onError,
  });

  /**
   * The claimed path's writes: stop renewing (waiting for a renewal in flight, which moves the
   * revision or finds the lease lost), then compare-and-set on the last revision. A write that
   * finds the record moved on although no renewal did — the process stalled past its lease after
   * its last renewal (ADR 0027 round 2) — is a lost lease too: reported, and `moved` is set.
   */
  const writeHeld = async (held: HeldLease, record: MessageStatus, moved: { value: boolean }): Promise<number> => {
    await renewer.end(held);
    try {
      return await statuses.replace(record, (held.lease as StatusLease).revision);
    } catch (err) {
      if (recordMovedOn(err)) {
        if (!held.lost && !moved.value) renewal.onLeaseLost(record.message_id);
        moved.value = true;
      }
      throw err;
    }
  };

  return {
    kind: 'status',
    responseTtlMs,
    sweep: (now) => renewer.sweep(now),
    held: async (messageId) => leaseLive(await statuses.recorded(messageId), Date.now()),
    async run(input: GuardInput, invoke, afterEffect): Promise<GuardResult> {
      if (input.pending === undefined) throw new Error('the status-record guard needs the pending record');
      // The only copy: no claim, and its records are create-only writes.
      if (input.onlyCopy === true) return runHandler(input.pending, (record) => statuses.createRecord(record), invoke, afterEffect);
      const pending = input.pending();
      const now = Date.now();
      const claim = await statuses.claim(
        input.messageId,
        (current) => ({ ...pending, created_at: current?.created_at ?? pending.created_at, last_error: current?.last_error ?? null, lease_until: now + leaseMs }),
        now,
      );
      if (claim.state === 'in-progress') return { kind: 'busy', retryAfterMs: claim.retryAfterMs };
      if (claim.state === 'terminal') {
        return claim.status.state === 'ACKNOWLEDGED' ? { kind: 'duplicate', response: claim.status.response } : { kind: 'terminal', status: claim.status };
      }
      // Every write after the claim is a compare-and-set on its revision (or its last renewal's).
      const lease: StatusLease = { id: input.messageId, owner: String(claim.revision), record: claim.record, revision: claim.revision };
      const held = renewer.hold(input.messageId, lease, now);
      const moved = { value: false };
      return runHandler(() => claim.record, (record) => writeHeld(held, record, moved), invoke, afterEffect, () => held.lost || moved.value, leaseMs);
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
  lost?: () => boolean, leaseMs = 0,
): Promise<GuardResult> {
  let response: unknown;
  try {
    response = await invoke(undefined);
  } catch (err) {
    await write(failedAttempt(base(), err)).catch(() => undefined);
    // The record is another delivery's now: it decides the outcome; look again later (ADR 0027).
    if (lost?.() === true) return { kind: 'busy', retryAfterMs: leaseMs };
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
