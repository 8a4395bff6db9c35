/**
 * Message states of exactly-once calls (EO-5), kept in a JetStream KV bucket keyed by message id
 * so any process — the caller after a restart, the router, the CLI — can read them.
 *
 * A request no receiver has touched yet has no record: it is `PENDING` by being in the request
 * stream, found there by its subject (`<ns>.reliable.<service>.<method>.<id>`), so the caller
 * writes nothing but the request itself (ADR 0053). Receivers record retries, `ACKNOWLEDGED` with
 * the response, `FAILED` with the last error and dead-letter sequence, or `EXPIRED`. Retries are
 * compare-and-set and skip terminal records, so a late redelivery cannot turn an `ACKNOWLEDGED`
 * message back into `PENDING`. With the status-record idempotency the record is also the
 * processing claim ({@link MessageStatusStore.claim}): one record per message id.
 */
import { Kvm, type KV } from '@nats-io/kv';
import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { AegisError, HEADERS, NatsHeaderBlock, decode, encode, type WireError } from '@aegis-ipc/protocol';
import { JetStreamPublisher, JetStreamPublishError } from '../jetstream/jetstream-publisher.js';
import { RELIABLE_HEADERS } from './reliable-headers.js';
import { MESSAGE_STATUS_BUCKET, RELIABLE_STREAM, parseReliableSubject, requestSubjectOf } from './reliable-topology.js';

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
  /** Status-record idempotency: epoch ms until which `instance_id` holds the message (null: nobody). */
  readonly lease_until?: number | null;
}

/** The result of {@link MessageStatusStore.claim}. */
export type StatusClaim =
  /** This delivery holds the record at `revision` until its lease runs out. */
  | { readonly state: 'claimed'; readonly record: MessageStatus; readonly revision: number }
  /** Already ACKNOWLEDGED, FAILED or EXPIRED. */
  | { readonly state: 'terminal'; readonly status: MessageStatus }
  /** Another delivery's lease is live. */
  | { readonly state: 'in-progress'; readonly retryAfterMs: number };

/** Terminal states a retry record must not overwrite. */
const TERMINAL = new Set<MessageState>(['ACKNOWLEDGED', 'FAILED', 'EXPIRED']);

/** The KV bucket of message states; open with {@link MessageStatusStore.open}. */
/** Publish timeout of the hot record writes (nats.js' JetStream default). */
const WRITE_TIMEOUT_MS = 5_000;
/** Store only if the key has never been written (or was purged). */
const CREATE_ONLY = new NatsHeaderBlock(['Nats-Expected-Last-Subject-Sequence', '0']) as unknown as MsgHdrs;

export class MessageStatusStore {
  #jsm: Promise<JetStreamManager> | undefined;
  #publisher: JetStreamPublisher | undefined;

  private constructor(
    readonly kv: KV,
    private readonly nc: NatsConnection,
    private readonly bucket: string,
  ) {}

  /**
   * The hot writes (claim, outcome) are plain publishes to the bucket's subject with the KV
   * API's expected-sequence header, through a {@link JetStreamPublisher} (ADR 0023: no nats.js
   * request machinery per write). The rare paths use the KV API.
   */
  #write(messageId: string, data: Uint8Array, headers: MsgHdrs): Promise<number> {
    this.#publisher ??= new JetStreamPublisher(this.nc, WRITE_TIMEOUT_MS);
    return this.#publisher.publish(`$KV.${this.bucket}.${messageId}`, data, headers).then((ack) => ack.seq);
  }

  /**
   * @param ttlMs how long a status is kept (the bucket's max_age; NATS 2.9 has no per-key TTL).
   * @throws AegisError `STORAGE_FAILURE`
   */
  static async open(nc: NatsConnection, ttlMs: number, bucket = MESSAGE_STATUS_BUCKET): Promise<MessageStatusStore> {
    try {
      return new MessageStatusStore(await new Kvm(nc).create(bucket, { history: 1, ttl: ttlMs }), nc, bucket);
    } catch (err) {
      throw storageFailure(`cannot open the message status bucket ${bucket}`, err);
    }
  }

  /** Opens the bucket without creating it (readers such as the router). */
  static async bind(nc: NatsConnection, bucket = MESSAGE_STATUS_BUCKET): Promise<MessageStatusStore> {
    try {
      return new MessageStatusStore(await new Kvm(nc).open(bucket), nc, bucket);
    } catch (err) {
      throw storageFailure(`cannot open the message status bucket ${bucket}`, err);
    }
  }

  /**
   * The status of `messageId`: its record, else `PENDING` when its request waits in the stream.
   * @throws AegisError `STORAGE_FAILURE`
   */
  async get(messageId: string): Promise<MessageStatus | undefined> {
    const recorded = await this.recorded(messageId);
    if (recorded !== undefined) return recorded;
    const waiting = await this.#waitingRequest(messageId);
    // Gone from the stream between the two reads means processed meanwhile: the record exists now.
    return waiting ?? (await this.recorded(messageId));
  }

  /** The record of `messageId` only (no stream look-up). @throws AegisError `STORAGE_FAILURE` */
  async recorded(messageId: string): Promise<MessageStatus | undefined> {
    try {
      const entry = await this.kv.get(messageId);
      if (entry === null || entry.operation !== 'PUT' || entry.length === 0) return undefined;
      return decode(entry.value) as MessageStatus;
    } catch (err) {
      throw storageFailure(`cannot read the status of ${messageId}`, err);
    }
  }

  /** The request of `messageId` still in the request stream, as a PENDING status. */
  async #waitingRequest(messageId: string): Promise<MessageStatus | undefined> {
    let sm;
    try {
      this.#jsm ??= jetstreamManager(this.nc);
      this.#jsm.catch(() => (this.#jsm = undefined));
      sm = await (await this.#jsm).streams.getMessage(RELIABLE_STREAM, { last_by_subj: requestSubjectOf(messageId) });
    } catch (err) {
      if (/stream not found|10059/i.test(`${(err as Error).message} ${String((err as { code?: unknown }).code)}`)) return undefined;
      throw storageFailure(`cannot look up the request of ${messageId}`, err);
    }
    const target = sm === null ? undefined : parseReliableSubject(sm.subject);
    if (sm === null || target === undefined) return undefined;
    const created = sm.header?.get(RELIABLE_HEADERS.createdAt) || sm.time.toISOString();
    return {
      message_id: messageId, service_name: target.serviceName, method: target.method, state: 'PENDING', retry_count: 0, last_error: null,
      trace_id: sm.header?.get(HEADERS.traceId) ?? '', created_at: created, updated_at: created, replays: Number(sm.header?.get(RELIABLE_HEADERS.replays) || 0),
    };
  }

  /**
   * Claims the record for one delivery (status-record idempotency): creates it, or takes over a
   * non-terminal record nobody holds (or whose lease ran out) by compare-and-set on its revision.
   * `claim(current)` is the record to write (PENDING with `lease_until`).
   * @throws AegisError `STORAGE_FAILURE`
   */
  async claim(messageId: string, claim: (current: MessageStatus | undefined) => MessageStatus, now = Date.now()): Promise<StatusClaim> {
    try {
      const fresh = claim(undefined);
      try {
        return { state: 'claimed', record: fresh, revision: await this.#write(messageId, encode(fresh), CREATE_ONLY) };
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
      const entry = await this.kv.get(messageId);
      const current = entry !== null && entry.operation === 'PUT' && entry.length > 0 ? (decode(entry.value) as MessageStatus) : undefined;
      if (current !== undefined && TERMINAL.has(current.state)) return { state: 'terminal', status: current };
      const until = current?.lease_until ?? 0;
      if (until > now) return { state: 'in-progress', retryAfterMs: until - now };
      const record = claim(current);
      try {
        return { state: 'claimed', record, revision: await this.kv.update(messageId, encode(record), entry?.revision ?? 0) };
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
        return { state: 'in-progress', retryAfterMs: Math.max(0, (record.lease_until ?? now) - now) }; // another delivery took it first
      }
    } catch (err) {
      throw storageFailure(`cannot claim ${messageId}`, err);
    }
  }

  /**
   * Creates the record; fails when one exists (a redelivery took the message over meanwhile).
   * @throws AegisError `STORAGE_FAILURE`
   */
  async createRecord(status: MessageStatus): Promise<number> {
    try {
      return await this.#write(status.message_id, encode(status), CREATE_ONLY);
    } catch (err) {
      throw storageFailure(`cannot record ${status.message_id} as ${status.state}`, err);
    }
  }

  /**
   * Writes `status` over the record at `revision` (compare-and-set): fails when another delivery
   * took the record over meanwhile. Returns the new revision.
   * @throws AegisError `STORAGE_FAILURE`
   */
  async replace(status: MessageStatus, revision: number): Promise<number> {
    try {
      return await this.#write(status.message_id, encode(status), new NatsHeaderBlock(['Nats-Expected-Last-Subject-Sequence', String(revision)]) as unknown as MsgHdrs);
    } catch (err) {
      throw storageFailure(`cannot record ${status.message_id} as ${status.state}`, err);
    }
  }

  /**
   * Extends the lease of a claimed record to `leaseUntil` — only if the record is still at
   * `revision` (compare-and-set), so it never extends a lease another delivery took over. Returns
   * the new revision, or `undefined` when the record moved on (ADR 0027).
   * @throws AegisError `STORAGE_FAILURE` when the bucket cannot be reached (the lease may still be held)
   */
  async renewLease(record: MessageStatus, revision: number, leaseUntil: number): Promise<number | undefined> {
    const renewed: MessageStatus = { ...record, lease_until: leaseUntil };
    try {
      return await this.#write(record.message_id, encode(renewed), new NatsHeaderBlock(['Nats-Expected-Last-Subject-Sequence', String(revision)]) as unknown as MsgHdrs);
    } catch (err) {
      if (isWrongLastSequence(err)) return undefined;
      throw storageFailure(`cannot renew the lease of ${record.message_id}`, err);
    }
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

/**
 * True when a delivery holds `record` now (status-record idempotency): not terminal and its lease
 * ahead of `now` — what makes {@link MessageStatusStore.claim} answer `in-progress`. Read by a
 * copy whose deliveries ran out and by the router's stalled-request watcher, which never park an
 * id another delivery holds (ADR 0027, round 3).
 */
export function leaseLive(record: MessageStatus | undefined, now: number): boolean {
  return record !== undefined && !TERMINAL.has(record.state) && (record.lease_until ?? 0) > now;
}

/**
 * True when a compare-and-set write ({@link MessageStatusStore.replace}) failed because the record
 * moved on since the expected revision — another delivery took it over or ended it — rather than
 * because the bucket could not be reached.
 */
export function recordMovedOn(err: unknown): boolean {
  return isWrongLastSequence(err) || (err instanceof AegisError && err.cause !== undefined && isWrongLastSequence(err.cause));
}

function isWrongLastSequence(err: unknown): boolean {
  if (err instanceof JetStreamPublishError) return err.apiCode === 10071;
  const text = err instanceof Error ? `${err.message} ${String((err as { code?: unknown }).code)}` : String(err);
  return /wrong last sequence|10071|key exists/i.test(text);
}

export function storageFailure(message: string, cause: unknown): AegisError<'STORAGE_FAILURE'> {
  if (cause instanceof AegisError && cause.code === 'STORAGE_FAILURE') return cause as AegisError<'STORAGE_FAILURE'>;
  return new AegisError('STORAGE_FAILURE', `${message}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}
