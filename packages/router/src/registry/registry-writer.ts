/**
 * The one way this replica changes the registry: read-modify-write against the KV revision,
 * retried when another replica wrote in between, applied to the local view at once, and
 * announced on `ipc.events.registry`; and the delete that retires a dead instance (ADR 0008).
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { AegisError, SUBJECTS, encode, type InstanceRecord, type RegistryEvent } from '@aegis-ipc/protocol';
import type { Registry } from './registry.js';
import type { RegistryStore, StoredRecord } from './registry-store.js';

/** Decides the next record from the current one; `undefined` means "no write needed". */
export type Mutation = (current: StoredRecord | undefined) => InstanceRecord | undefined;

/**
 * What became of a retirement (ADR 0008): `removed` — this replica deleted the entry;
 * `expired` — KV no longer held it (gone by max age, which NATS 2.9 watchers never deliver), so
 * it was dropped from this replica's view only; `kept` — it is no longer due (changed, deleted by
 * another replica, or alive again), which is normal when replicas race.
 */
export type Retirement =
  | { readonly outcome: 'removed' | 'expired'; readonly stored: StoredRecord }
  | { readonly outcome: 'kept'; readonly why: 'not_due' | 'changed' | 'deleted_elsewhere' };

const MAX_ATTEMPTS = 5;

export class RegistryWriter {
  readonly #store: RegistryStore;
  readonly #registry: Registry;
  readonly #nc: NatsConnection;
  /** Per-instance queue: one read-modify-write at a time per key within this replica. */
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(store: RegistryStore, registry: Registry, nc: NatsConnection) {
    this.#store = store;
    this.#registry = registry;
    this.#nc = nc;
  }

  /**
   * Applies `mutate` to the current record of `instanceId` and writes the result.
   * Returns the record as stored afterwards (unchanged when `mutate` returned `undefined`).
   * @throws AegisError `STORAGE_FAILURE` when KV fails or keeps conflicting.
   */
  change(instanceId: string, mutate: Mutation): Promise<StoredRecord | undefined> {
    return this.#queue(instanceId, () => this.#change(instanceId, mutate));
  }

  /**
   * Deletes the entry of `instanceId` when `due` still says so of the record this replica holds,
   * with its revision as the expected last sequence: a record another replica rewrote in between
   * (a re-registration, a status change) is never deleted. Queued behind this replica's own
   * writes to the same instance.
   * @throws AegisError `STORAGE_FAILURE` when KV fails.
   */
  retire(instanceId: string, due: (current: StoredRecord) => boolean): Promise<Retirement> {
    return this.#queue(instanceId, () => this.#retire(instanceId, due));
  }

  async #retire(instanceId: string, due: (current: StoredRecord) => boolean): Promise<Retirement> {
    const current = this.#registry.get(instanceId);
    if (current === undefined || !due(current)) return { outcome: 'kept', why: 'not_due' };
    if (await this.#store.delete(instanceId, current.revision)) {
      this.#registry.apply({ kind: 'delete', instanceId, revision: current.revision });
      this.#announceRemoved(current.record);
      return { outcome: 'removed', stored: current };
    }
    const now = await this.#store.state(instanceId);
    if (now === 'absent') {
      this.#registry.apply({ kind: 'delete', instanceId, revision: current.revision });
      return { outcome: 'expired', stored: current };
    }
    // The watcher delivers the newer record or the other replica's delete marker; apply a newer
    // record now so the next sweep judges what KV holds.
    if (now !== 'deleted') this.#registry.apply({ kind: 'put', stored: now });
    return { outcome: 'kept', why: now === 'deleted' ? 'deleted_elsewhere' : 'changed' };
  }

  #queue<T>(instanceId: string, run: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(instanceId) ?? Promise.resolve();
    const next = previous.then(run, run);
    this.#locks.set(instanceId, next);
    void next.finally(() => {
      if (this.#locks.get(instanceId) === next) this.#locks.delete(instanceId);
    }).catch(() => {});
    return next;
  }

  async #change(instanceId: string, mutate: Mutation): Promise<StoredRecord | undefined> {
    let current = this.#registry.get(instanceId);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const next = mutate(current);
      if (next === undefined) return current;
      const revision = await this.#store.write(next, current?.revision ?? 0);
      if (revision !== undefined) {
        const stored = { record: next, revision };
        this.#registry.apply({ kind: 'put', stored });
        this.#announce(current?.record, next);
        return stored;
      }
      // Another replica (or a watcher lag) moved the entry: re-read from KV and decide again.
      current = await this.#store.get(instanceId);
      if (current !== undefined) this.#registry.apply({ kind: 'put', stored: current });
    }
    throw new AegisError('STORAGE_FAILURE', `registry entry "${instanceId}" kept changing under concurrent writers`);
  }

  #announceRemoved(record: InstanceRecord): void {
    const event: RegistryEvent = { type: 'instance_removed', service_name: record.service_name, instance_id: record.instance_id, at: new Date().toISOString() };
    if (!this.#nc.isClosed()) this.#nc.publish(SUBJECTS.events, encode(event));
  }

  #announce(before: InstanceRecord | undefined, after: InstanceRecord): void {
    const at = after.updated_at;
    let event: RegistryEvent | undefined;
    if (before === undefined || before.session_id !== after.session_id) {
      event = { type: 'instance_registered', service_name: after.service_name, instance_id: after.instance_id, session_id: after.session_id, at };
    } else if (before.status !== after.status) {
      event = { type: 'instance_status_changed', service_name: after.service_name, instance_id: after.instance_id, from: before.status, to: after.status, reason: after.status_reason ?? '', at };
    }
    if (event !== undefined && !this.#nc.isClosed()) this.#nc.publish(SUBJECTS.events, encode(event));
  }
}
