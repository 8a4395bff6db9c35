/**
 * What makes a receiver idempotent (EO-4): runs a handler at most once per message id across
 * every instance of a service, and hands duplicates the first response. Two strengths:
 * {@link ./status-record-guard.ts} (the message's status record in JetStream KV),
 * {@link ./dedupe-guard.ts} (shared KV/Redis store) and {@link ./inbox/inbox-guard.ts}
 * (PostgreSQL transactional inbox). docs/guarantees.md says where each stops.
 */
import type { PoolClient } from 'pg';
import type { MessageStatus } from './message-status.js';

export interface GuardInput {
  readonly messageId: string;
  readonly serviceName: string;
  /**
   * The PENDING record of this delivery (retry count, trace id…): the status-record guard claims
   * with it. A function, so the first delivery of an only copy (no claim) does not build it.
   */
  readonly pending?: () => MessageStatus;
  /**
   * First delivery of the first publish of an SDK-generated id: no other copy of the id exists,
   * so the status-record guard skips the claim and creates the outcome record (create-only).
   */
  readonly onlyCopy?: boolean;
}

export type GuardResult =
  /**
   * `completion` settles once the "done" record is durable; the receiver awaits it together with
   * the status write (one round trip instead of two) and before acknowledging.
   */
  | {
      readonly kind: 'processed';
      readonly response: unknown;
      readonly completion: Promise<void>;
      /** Set when the guard's record is the status record: the receiver writes the outcome through it (no separate put). */
      readonly recordOutcome?: (status: MessageStatus) => Promise<void>;
    }
  | { readonly kind: 'duplicate'; readonly response: unknown }
  /** Another instance holds the message right now; look again after `retryAfterMs`. */
  | { readonly kind: 'busy'; readonly retryAfterMs: number }
  /** The message already ended FAILED or EXPIRED (status-record guard): answer with that, never run it again. */
  | { readonly kind: 'terminal'; readonly status: MessageStatus };

/**
 * Runs the handler. `tx` is the inbox transaction (undefined with a dedupe store).
 * `afterEffect` is called once the effect is durable and before the completion is acknowledged
 * (a test seam: the crash tests kill the process there).
 */
export interface IdempotencyGuard {
  readonly kind: 'status' | 'dedupe' | 'inbox';
  /** How long a stored response is kept. */
  readonly responseTtlMs: number;
  /**
   * Renews the leases of handlers still running that are due; called from the receiver's
   * in-flight sweep (ADR 0027). Guards without a renewable lease leave it out.
   */
  readonly sweep?: (now: number) => void;
  /**
   * Whether a delivery holds a live lease on the id right now — read only, never a claim. Asked by
   * a delivery that holds none (its deliveries ran out) before it parks the id: a live lease is
   * another delivery's, whose outcome answers every waiter (ADR 0027, round 3). Guards without a
   * lease to read (the inbox) leave it out, and such a delivery parks as before.
   * @throws AegisError `STORAGE_FAILURE` when the record cannot be read.
   */
  readonly held?: (messageId: string, serviceName: string) => Promise<boolean>;
  run(input: GuardInput, invoke: (tx: PoolClient | undefined) => Promise<unknown>, afterEffect: () => void): Promise<GuardResult>;
}
