/**
 * Message states of exactly-once calls (EO-5), kept in a JetStream KV bucket keyed by message id
 * so any process — the caller after a restart, the router, the CLI — can read them.
 *
 * Writers: the caller creates `PENDING` (create-only: it never overwrites a later state); the
 * receiver records retries, `ACKNOWLEDGED` with the response, `FAILED` with the last error and
 * dead-letter sequence, or `EXPIRED`. Retries are compare-and-set and skip terminal records, so
 * a late redelivery cannot turn an `ACKNOWLEDGED` message back into `PENDING`.
 */
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { AegisError, decode, encode, type WireError } from '@aegis-ipc/protocol';
import { MESSAGE_STATUS_BUCKET } from './reliable-topology.js';

export const MESSAGE_STATES = { PENDING: 'PENDING', ACKNOWLEDGED: 'ACKNOWLEDGED', FAILED: 'FAILED', EXPIRED: 'EXPIRED' } as const;
export type MessageState = (typeof MESSAGE_STATES)[keyof typeof MESSAGE_STATES];

/** The status of one message id, as served by `ipc.message.status` and the admin API. */
export interface MessageStatus {
  readonly message_id: string;
  readonly service_name: string;
  readonly method: string;
  readonly state: MessageState;
  /** Deliveries after the first. */
  readonly retry_count: number;
  readonly last_error: string | null;
  /** The wire error of a FAILED/EXPIRED message. */
  readonly error?: WireError | null;
  readonly trace_id: string;
  readonly created_at: string;
  readonly updated_at: string;
  /** Instance that acknowledged (or failed) it. */
  readonly instance_id?: string | null;
  /** The handler's response, once ACKNOWLEDGED. */
  readonly response?: unknown;
  /** Sequence in the dead-letter stream, once FAILED. */
  readonly dlq_seq?: number | null;
  /** Times an operator replayed it. */
  readonly replays?: number;
}

/** Terminal states a retry record must not overwrite. */
const TERMINAL = new Set<MessageState>(['ACKNOWLEDGED', 'FAILED', 'EXPIRED']);

/** The KV bucket of message states; open with {@link MessageStatusStore.open}. */
export class MessageStatusStore {
  private constructor(readonly kv: KV) {}

  /**
   * @param ttlMs how long a status is kept (the bucket's max_age; NATS 2.9 has no per-key TTL).
   * @throws AegisError `STORAGE_FAILURE`
   */
  static async open(nc: NatsConnection, ttlMs: number, bucket = MESSAGE_STATUS_BUCKET): Promise<MessageStatusStore> {
    try {
      return new MessageStatusStore(await new Kvm(nc).create(bucket, { history: 1, ttl: ttlMs }));
    } catch (err) {
      throw storageFailure(`cannot open the message status bucket ${bucket}`, err);
    }
  }

  /** Opens the bucket without creating it (readers such as the router). */
  static async bind(nc: NatsConnection, bucket = MESSAGE_STATUS_BUCKET): Promise<MessageStatusStore> {
    try {
      return new MessageStatusStore(await new Kvm(nc).open(bucket));
    } catch (err) {
      throw storageFailure(`cannot open the message status bucket ${bucket}`, err);
    }
  }

  /** @throws AegisError `STORAGE_FAILURE` */
  async get(messageId: string): Promise<MessageStatus | undefined> {
    try {
      const entry = await this.kv.get(messageId);
      if (entry === null || entry.operation !== 'PUT' || entry.length === 0) return undefined;
      return decode(entry.value) as MessageStatus;
    } catch (err) {
      throw storageFailure(`cannot read the status of ${messageId}`, err);
    }
  }

  /**
   * Records `PENDING` unless the id already has a status; returns the existing status then.
   * @throws AegisError `STORAGE_FAILURE`
   */
  async createPending(status: MessageStatus): Promise<MessageStatus | undefined> {
    try {
      await this.kv.create(status.message_id, encode(status));
      return undefined;
    } catch (err) {
      if (!isWrongLastSequence(err)) throw storageFailure(`cannot record ${status.message_id} as PENDING`, err);
    }
    return this.get(status.message_id);
  }

  /** Overwrites the status (terminal transitions). @throws AegisError `STORAGE_FAILURE` */
  async put(status: MessageStatus): Promise<void> {
    try {
      await this.kv.put(status.message_id, encode(status));
    } catch (err) {
      throw storageFailure(`cannot record ${status.message_id} as ${status.state}`, err);
    }
  }

  /**
   * Applies `change` to the current non-terminal status (compare-and-set, a few attempts).
   * Returns false when the message is already terminal or the races were lost.
   * @throws AegisError `STORAGE_FAILURE`
   */
  async updateUnlessTerminal(messageId: string, change: (current: MessageStatus | undefined) => MessageStatus): Promise<boolean> {
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const entry = await this.kv.get(messageId);
        const current = entry !== null && entry.operation === 'PUT' && entry.length > 0 ? (decode(entry.value) as MessageStatus) : undefined;
        if (current !== undefined && TERMINAL.has(current.state)) return false;
        try {
          if (entry === null) await this.kv.create(messageId, encode(change(current)));
          else await this.kv.update(messageId, encode(change(current)), entry.revision);
          return true;
        } catch (err) {
          if (!isWrongLastSequence(err)) throw err;
        }
      }
      return false;
    } catch (err) {
      throw storageFailure(`cannot update the status of ${messageId}`, err);
    }
  }
}

function isWrongLastSequence(err: unknown): boolean {
  const text = err instanceof Error ? `${err.message} ${String((err as { code?: unknown }).code)}` : String(err);
  return /wrong last sequence|10071|key exists/i.test(text);
}

export function storageFailure(message: string, cause: unknown): AegisError<'STORAGE_FAILURE'> {
  if (cause instanceof AegisError && cause.code === 'STORAGE_FAILURE') return cause as AegisError<'STORAGE_FAILURE'>;
  return new AegisError('STORAGE_FAILURE', `${message}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}
