/**
 * The registry's durable copy: one JetStream KV entry per instance, key = instance id (REG-8).
 *
 * KV is a shared cache that heartbeats keep true (DESIGN "registry and health"): on NATS 2.9
 * watchers do not see max-age expiry and compare-and-set is only safe on a single server or R1,
 * so nothing is evicted on TTL and every replica re-derives liveness from heartbeats. The entry of
 * an instance OFFLINE or UNHEALTHY for longer than the retention is deleted — a delete marker every
 * watcher sees — well before its max age (ADR 0008).
 * Writes use the entry revision (create / update-if-revision) so two replicas racing on the
 * same instance cannot silently overwrite each other.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { Kvm, type KV } from '@nats-io/kv';
import { AegisError, decode, encode, instanceRecord, type InstanceRecord } from '@aegis-ipc/protocol';
import type { Logger } from 'pino';

/** A record with the KV revision it was read or written at. */
export interface StoredRecord {
  readonly record: InstanceRecord;
  readonly revision: number;
}

/** A change seen by the watcher: a record put, or an instance deleted. */
export type StoreChange =
  | { readonly kind: 'put'; readonly stored: StoredRecord }
  | { readonly kind: 'delete'; readonly instanceId: string; readonly revision: number };

export interface RegistryStoreOptions {
  readonly bucket: string;
  /** Max age of an entry (ms). */
  readonly ttlMs: number;
  readonly logger: Logger;
}

/** How long to wait for the initial load when the bucket's message count is unknown. */
const INITIAL_LOAD_FALLBACK_MS = 2_000;

export class RegistryStore {
  readonly #kv: KV;
  readonly #logger: Logger;
  #watch: Awaited<ReturnType<KV['watch']>> | undefined;

  private constructor(kv: KV, logger: Logger) {
    this.#kv = kv;
    this.#logger = logger;
  }

  /**
   * Opens (creating when missing) the registry bucket: file storage, history 5, max age = TTL.
   * @throws AegisError `STORAGE_FAILURE` when JetStream is not available.
   */
  static async open(nc: NatsConnection, options: RegistryStoreOptions): Promise<RegistryStore> {
    try {
      const kv = await new Kvm(nc).create(options.bucket, { history: 5, ttl: options.ttlMs, description: 'AegisIPC service registry' });
      return new RegistryStore(kv, options.logger);
    } catch (err) {
      throw new AegisError('STORAGE_FAILURE', `cannot open registry KV bucket "${options.bucket}" (is JetStream enabled on the server?): ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Loads every entry, then keeps calling `onChange` for each later change. Resolves once the
   * initial entries have been delivered.
   */
  async watch(onChange: (change: StoreChange) => void): Promise<void> {
    const status = await this.#kv.status();
    const watch = await this.#kv.watch();
    this.#watch = watch;
    let markLoaded: () => void = () => {};
    const loaded = new Promise<void>((resolve) => (markLoaded = resolve));
    if (status.values === 0) markLoaded();
    const fallback = setTimeout(markLoaded, INITIAL_LOAD_FALLBACK_MS);
    fallback.unref();
    void (async () => {
      for await (const entry of watch) {
        if (entry.operation === 'PUT') {
          const record = this.#decode(entry.key, entry.value);
          if (record) onChange({ kind: 'put', stored: { record, revision: entry.revision } });
        } else {
          onChange({ kind: 'delete', instanceId: entry.key, revision: entry.revision });
        }
        // `delta` is the number of entries still pending: 0 marks the end of the initial load.
        if (entry.isUpdate || entry.delta === 0) markLoaded();
      }
    })().catch((err: unknown) => this.#logger.error({ err }, 'registry watch stopped'));
    await loaded;
    clearTimeout(fallback);
  }

  /** Reads one entry directly from the bucket (bypassing the watcher's view). */
  async get(instanceId: string): Promise<StoredRecord | undefined> {
    const entry = await this.#kv.get(instanceId);
    if (entry === null || entry.operation !== 'PUT') return undefined;
    const record = this.#decode(instanceId, entry.value);
    return record ? { record, revision: entry.revision } : undefined;
  }

  /**
   * Writes `record` if the entry is still at `expectedRevision` (0 = must not exist yet).
   * Returns the new revision, or `undefined` when another writer got there first.
   */
  async write(record: InstanceRecord, expectedRevision: number): Promise<number | undefined> {
    const data = encode(record);
    try {
      return expectedRevision === 0
        ? await this.#kv.create(record.instance_id, data)
        : await this.#kv.update(record.instance_id, data, expectedRevision);
    } catch (err) {
      if (isWrongRevision(err)) return undefined;
      throw new AegisError('STORAGE_FAILURE', `registry write for "${record.instance_id}" failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Deletes the entry if it is still at `expectedRevision`, leaving a delete marker every
   * replica's watcher sees. Returns `false` when the entry moved on (or is gone) first.
   * @throws AegisError `STORAGE_FAILURE` when KV fails otherwise.
   */
  async delete(instanceId: string, expectedRevision: number): Promise<boolean> {
    try {
      await this.#kv.delete(instanceId, { previousSeq: expectedRevision });
      return true;
    } catch (err) {
      if (isWrongRevision(err)) return false;
      throw new AegisError('STORAGE_FAILURE', `registry delete of "${instanceId}" failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * What the bucket holds for `instanceId` now: the record, `'deleted'` (a delete marker, which
   * every watcher delivers), or `'absent'` (never written, or gone by max age — which watchers on
   * NATS 2.9 never deliver).
   */
  async state(instanceId: string): Promise<StoredRecord | 'deleted' | 'absent'> {
    const entry = await this.#kv.get(instanceId);
    if (entry === null) return 'absent';
    if (entry.operation !== 'PUT') return 'deleted';
    const record = this.#decode(instanceId, entry.value);
    return record ? { record, revision: entry.revision } : 'absent';
  }

  /** Stops the watcher. */
  close(): void {
    this.#watch?.stop();
  }

  #decode(key: string, value: Uint8Array): InstanceRecord | undefined {
    try {
      return instanceRecord.parse(decode(value), `registry entry "${key}"`);
    } catch (err) {
      // A corrupt or foreign entry must not poison the registry: skip it and say so.
      this.#logger.warn({ err, key }, 'skipping unreadable registry entry');
      return undefined;
    }
  }
}

function isWrongRevision(err: unknown): boolean {
  const message = err instanceof Error ? err.message : '';
  // JetStream API error 10071 "wrong last sequence"; KV create on an existing key reports it too.
  return /wrong last sequence|key exists|10071/i.test(message) || (err as { api_error?: { err_code?: number } }).api_error?.err_code === 10071;
}
