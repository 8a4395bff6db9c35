/**
 * {@link DedupeStore} on a JetStream KV bucket.
 *
 * NATS 2.9 has no per-key TTL, so retention is the bucket's `max_age` (`ttlMs` of the options):
 * every record — lease or done — disappears that long after its last write, and the `ttlMs`
 * passed to `complete()` is ignored. A lease is a record with an expiry time inside it; `create()`
 * (write only if the key has no value) makes the first claim atomic, and taking over an expired
 * lease is a compare-and-set on the revision read. DESIGN notes that KV compare-and-set is not
 * safe on *clustered* streams on 2.9: on an R3 bucket two receivers could both take over the same
 * expired lease, i.e. a crash-recovery duplicate, never a lost message.
 */
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { AegisError, decode, encode, NatsHeaderBlock } from '@aegis-ipc/protocol';
import type { MsgHdrs } from '@nats-io/nats-core';
import { JetStreamPublisher, JetStreamPublishError } from '../jetstream/jetstream-publisher.js';
import { asDedupeRecord, newLeaseOwner, type ClaimResult, type DedupeLease, type DedupePeek, type DedupeRecord, type DedupeStore } from './dedupe-store.js';

/** A KV lease: renewing it is an update expecting the revision of the holder's last write. */
interface KvLease extends DedupeLease {
  readonly revision: number;
}

/** Options of {@link KvDedupeStore}. */
export interface KvDedupeStoreOptions {
  /** KV bucket name. @default 'AEGIS_DEDUPE' */
  readonly bucket?: string;
  /** Bucket `max_age`: how long a record (done or lease) is kept. @default 3600000 (1 h) */
  readonly ttlMs?: number;
  /** Replicas of the bucket stream (3 on a cluster). @default 1 */
  readonly replicas?: number;
}

/** @default 'AEGIS_DEDUPE' */
export const DEFAULT_KV_DEDUPE_BUCKET = 'AEGIS_DEDUPE';
/** @default 1 h, DESIGN's response-cache TTL. */
export const DEFAULT_DEDUPE_TTL_MS = 60 * 60 * 1000;

/** The publish timeout of the two hot writes (nats.js' JetStream default). */
const WRITE_TIMEOUT_MS = 5_000;
/** `create()`: store only if the key has never been written (or was purged). */
const CREATE_ONLY = new NatsHeaderBlock(['Nats-Expected-Last-Subject-Sequence', '0']) as unknown as MsgHdrs;
/** The completion record of the event bus (its response is always `true`), encoded once. */
const DONE_TRUE = encode({ s: 'done', r: true } satisfies DedupeRecord);

/**
 * A JetStream KV dedupe store; call {@link KvDedupeStore.open}. The two writes every processed id
 * makes (the first claim and the completion) are plain publishes to the bucket's subject through
 * a {@link JetStreamPublisher} (ADR 0023; the claim's ack says whether it won, the completion's
 * that it is stored), or for the events' best-effort record without asking for an ack
 * (`completeUnconfirmed`, ADR 0026); the rare paths (taking over an expired lease, renewing a
 * long handler's lease, release) use the KV API.
 */
export class KvDedupeStore implements DedupeStore {
  /** Completion records of this turn (see complete()). */
  private records: Array<{ readonly id: string; readonly data: Uint8Array; resolve(): void; reject(err: unknown): void }> = [];

  private constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    private readonly subjectPrefix: string,
    private readonly publisher: JetStreamPublisher,
  ) {}

  /**
   * Opens (creating or binding to) the bucket. Idempotent: an existing bucket is reused as is.
   * @throws AegisError `STORAGE_FAILURE` when JetStream is unavailable.
   */
  static async open(nc: NatsConnection, options: KvDedupeStoreOptions = {}): Promise<KvDedupeStore> {
    const bucket = options.bucket ?? DEFAULT_KV_DEDUPE_BUCKET;
    try {
      const kv = await new Kvm(nc).create(bucket, {
        history: 1,
        ttl: options.ttlMs ?? DEFAULT_DEDUPE_TTL_MS,
        replicas: options.replicas ?? 1,
      });
      return new KvDedupeStore(nc, kv, `$KV.${bucket}.`, new JetStreamPublisher(nc, WRITE_TIMEOUT_MS));
    } catch (err) {
      throw storageFailure(`cannot open dedupe bucket ${bucket}`, err);
    }
  }

  async claim(id: string, leaseMs: number): Promise<ClaimResult> {
    const owner = newLeaseOwner();
    const lease = encode({ s: 'lease', until: Date.now() + leaseMs, o: owner } satisfies DedupeRecord);
    const claimed = (revision: number): ClaimResult => {
      const held: KvLease = { id, owner, revision };
      return { state: 'claimed', lease: held };
    };
    try {
      try {
        return claimed((await this.publisher.publish(this.subjectPrefix + id, lease, CREATE_ONLY)).seq);
      } catch (err) {
        // The create fails when the key holds a value; anything else is a real failure.
        if (!isWrongLastSequence(err)) throw err;
      }
      const entry = await this.kv.get(id);
      if (entry === null || entry.operation !== 'PUT') {
        // Deleted between our create and get: claim through the delete marker's revision.
        return claimed(await this.kv.update(id, lease, entry?.revision ?? 0));
      }
      const record = asDedupeRecord(decode(entry.value));
      if (record.s === 'done') return { state: 'done', response: record.r };
      if (record.until > Date.now()) return { state: 'in-progress' };
      try {
        return claimed(await this.kv.update(id, lease, entry.revision));
      } catch (err) {
        if (isWrongLastSequence(err)) return { state: 'in-progress' }; // someone else took it over
        throw err;
      }
    } catch (err) {
      throw storageFailure(`dedupe claim of ${id} failed`, err);
    }
  }

  /**
   * An update expecting the revision of this holder's last write: any other write since — a
   * takeover, a completion, a release — moves the revision, and the stream refuses the renewal.
   * A lease whose `until` passed with nobody taking it over is still this holder's and is renewed.
   */
  async renew(lease: DedupeLease, leaseMs: number): Promise<DedupeLease | undefined> {
    const { revision } = lease as Partial<KvLease>;
    if (revision === undefined) return undefined; // not a lease of this store
    const value = encode({ s: 'lease', until: Date.now() + leaseMs, o: lease.owner } satisfies DedupeRecord);
    try {
      const renewed: KvLease = { id: lease.id, owner: lease.owner, revision: await this.kv.update(lease.id, value, revision) };
      return renewed;
    } catch (err) {
      if (isWrongLastSequence(err)) return undefined;
      throw storageFailure(`dedupe lease renewal of ${lease.id} failed`, err);
    }
  }

  /** Resolves once the stream stored the record (its PubAck): the reliable receiver acks after it. */
  async complete(id: string, response: unknown, _ttlMs: number): Promise<void> {
    try {
      await this.publisher.publish(this.subjectPrefix + id, doneRecord(response));
    } catch (err) {
      throw storageFailure(`dedupe complete of ${id} failed`, err);
    }
  }

  /**
   * The completion record published expecting the revision of this holder's last write (one
   * header more than {@link complete}, same single PubAck): any other write since refuses it.
   */
  async completeIfHeld(lease: DedupeLease, response: unknown, _ttlMs: number): Promise<boolean> {
    const { revision } = lease as Partial<KvLease>;
    if (revision === undefined) return false; // not a lease of this store
    const expected = new NatsHeaderBlock(['Nats-Expected-Last-Subject-Sequence', String(revision)]) as unknown as MsgHdrs;
    try {
      await this.publisher.publish(this.subjectPrefix + lease.id, doneRecord(response), expected);
      return true;
    } catch (err) {
      if (isWrongLastSequence(err)) return false;
      throw storageFailure(`dedupe complete of ${lease.id} failed`, err);
    }
  }

  /** A delete expecting the holder's revision. */
  async releaseIfHeld(lease: DedupeLease): Promise<boolean> {
    const { revision } = lease as Partial<KvLease>;
    if (revision === undefined) return false;
    try {
      await this.kv.delete(lease.id, { previousSeq: revision });
      return true;
    } catch (err) {
      if (isWrongLastSequence(err)) return false;
      throw storageFailure(`dedupe release of ${lease.id} failed`, err);
    }
  }

  /**
   * Writes the completion record without asking for the stream's ack (ADR 0026), for the QoS 2
   * event path: there the record is best effort by design (a missing one only weakens dedupe for
   * that id, and nothing waits for it), so a PubAck would cost the server a reply and this client
   * a parse per event for nothing. Resolves once the record is handed to the connection — written
   * to the socket at the end of this event-loop turn, with the turn's other records.
   */
  completeUnconfirmed(id: string, response: unknown, _ttlMs: number): Promise<void> {
    const data = doneRecord(response);
    return new Promise((resolve, reject) => {
      if (this.records.push({ id, data, resolve, reject }) === 1) setImmediate(this.writeRecords);
    });
  }

  /**
   * Stops the write publisher once its outstanding writes settle (the bucket stays). Records
   * still queued are written, and a flush round trip makes sure the server has read them.
   */
  async close(): Promise<void> {
    this.writeRecords();
    await this.publisher.close();
    if (!this.nc.isClosed()) await this.nc.flush().catch(() => undefined);
  }

  private readonly writeRecords = (): void => {
    const batch = this.records;
    this.records = [];
    for (const r of batch) {
      try {
        this.nc.publish(this.subjectPrefix + r.id, r.data);
        r.resolve();
      } catch (err) {
        // A closed or draining connection throws synchronously.
        r.reject(storageFailure(`dedupe complete of ${r.id} failed`, err));
      }
    }
  };

  /** A lease is held while its `until` is ahead (a lapsed one is taken over by the next claim). */
  async peek(id: string): Promise<DedupePeek> {
    try {
      const entry = await this.kv.get(id);
      if (entry === null || entry.operation !== 'PUT' || entry.length === 0) return 'free';
      const record = asDedupeRecord(decode(entry.value));
      if (record.s === 'done') return 'done';
      return record.until > Date.now() ? 'held' : 'free';
    } catch (err) {
      throw storageFailure(`dedupe peek of ${id} failed`, err);
    }
  }

  async release(id: string): Promise<void> {
    try {
      await this.kv.delete(id);
    } catch (err) {
      throw storageFailure(`dedupe release of ${id} failed`, err);
    }
  }
}

function doneRecord(response: unknown): Uint8Array {
  return response === true ? DONE_TRUE : encode({ s: 'done', r: response } satisfies DedupeRecord);
}

function isWrongLastSequence(err: unknown): boolean {
  if (err instanceof JetStreamPublishError) return err.apiCode === 10071;
  const text = err instanceof Error ? `${err.message} ${String((err as { code?: unknown }).code)}` : String(err);
  return /wrong last sequence|10071|key exists/i.test(text);
}

function storageFailure(message: string, cause: unknown): AegisError<'STORAGE_FAILURE'> {
  if (cause instanceof AegisError && cause.code === 'STORAGE_FAILURE') return cause as AegisError<'STORAGE_FAILURE'>;
  return new AegisError('STORAGE_FAILURE', `${message}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}
