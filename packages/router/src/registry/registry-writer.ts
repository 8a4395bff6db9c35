/**
 * The one way this replica changes the registry: read-modify-write against the KV revision,
 * retried when another replica wrote in between, applied to the local view at once, and
 * announced on `ipc.events.registry`.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { AegisError, SUBJECTS, encode, type InstanceRecord, type RegistryEvent } from '@aegis-ipc/protocol';
import type { Registry } from './registry.js';
import type { RegistryStore, StoredRecord } from './registry-store.js';

/** Decides the next record from the current one; `undefined` means "no write needed". */
export type Mutation = (current: StoredRecord | undefined) => InstanceRecord | undefined;

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
    const previous = this.#locks.get(instanceId) ?? Promise.resolve();
    const next = previous.then(
      () => this.#change(instanceId, mutate),
      () => this.#change(instanceId, mutate),
    );
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
