/**
 * The router's in-memory view of the registry, fed by the KV watcher (and by this replica's own
 * writes, applied at once so a reply never races its own watch event). Readers — registration,
 * health, routing, the admin API — read from here, never from KV on the hot path.
 */
import type { InstanceRecord, InstanceStatus, RegistryEvent } from '@aegis-ipc/protocol';
import type { StoreChange, StoredRecord } from './registry-store.js';

/** One service with its instances and counts, as shown by the admin API (REG-3). */
export interface ServiceView {
  readonly service_name: string;
  readonly instances: InstanceRecord[];
  readonly counts: Readonly<Record<InstanceStatus, number>> & { readonly total: number };
}

/**
 * A status change kept for diagnostics (RT-8 "history of state changes"). `to: 'REMOVED'` is the
 * last entry of an instance: its registry entry was deleted (retired after the retention, ADR
 * 0008), and the history is then the only place that still names it.
 */
export interface StatusChange {
  readonly at: string;
  readonly service_name: string;
  readonly instance_id: string;
  readonly from: InstanceStatus | null;
  readonly to: InstanceStatus | 'REMOVED';
  readonly reason: string;
}

type Listener = (event: RegistryEvent) => void;

const EMPTY: readonly InstanceRecord[] = Object.freeze([]);

export class Registry {
  readonly #entries = new Map<string, StoredRecord>();
  readonly #byService = new Map<string, Set<string>>();
  /**
   * Every service name this replica has seen, kept after its last instance is retired: the
   * per-service gauges report such a service as 0 instances, so "all instances down" keeps
   * alerting instead of resolving when the dead instances are retired (ADR 0008). Bounded by the
   * distinct service names, which do not churn with deploys.
   */
  readonly #servicesSeen = new Set<string>();
  /** ONLINE instances per service, rebuilt on change so routing reads a ready array. */
  readonly #online = new Map<string, readonly InstanceRecord[]>();
  readonly #listeners = new Set<Listener>();
  readonly #history: StatusChange[] = [];
  readonly #historySize: number;

  constructor(historySize = 1_000) {
    this.#historySize = historySize;
  }

  /** Applies a change from the KV watcher or from this replica's own write. Stale revisions are ignored. */
  apply(change: StoreChange): void {
    if (change.kind === 'delete') {
      const current = this.#entries.get(change.instanceId);
      if (current === undefined || current.revision > change.revision) return;
      this.#entries.delete(change.instanceId);
      this.#byService.get(current.record.service_name)?.delete(change.instanceId);
      this.#refreshOnline(current.record.service_name);
      if (this.#byService.get(current.record.service_name)?.size === 0) {
        // The last instance of the service: nothing of it stays behind.
        this.#byService.delete(current.record.service_name);
        this.#online.delete(current.record.service_name);
      }
      const at = new Date().toISOString();
      const { record } = current;
      const sinceMs = Math.max(0, Date.parse(at) - Date.parse(record.updated_at));
      this.#remember({ at, service_name: record.service_name, instance_id: record.instance_id, from: record.status, to: 'REMOVED', reason: `removed after ${sinceMs} ms ${record.status}` });
      this.#emit({ type: 'instance_removed', service_name: record.service_name, instance_id: change.instanceId, at });
      return;
    }
    const { record, revision } = change.stored;
    const previous = this.#entries.get(record.instance_id);
    if (previous !== undefined && previous.revision >= revision) return;
    this.#entries.set(record.instance_id, change.stored);
    if (previous !== undefined && previous.record.service_name !== record.service_name) {
      this.#byService.get(previous.record.service_name)?.delete(record.instance_id);
      this.#refreshOnline(previous.record.service_name);
    }
    let ids = this.#byService.get(record.service_name);
    if (ids === undefined) {
      this.#byService.set(record.service_name, (ids = new Set()));
      this.#servicesSeen.add(record.service_name);
    }
    ids.add(record.instance_id);
    this.#refreshOnline(record.service_name);

    const newSession = previous === undefined || previous.record.session_id !== record.session_id;
    if (newSession) {
      this.#emit({ type: 'instance_registered', service_name: record.service_name, instance_id: record.instance_id, session_id: record.session_id, at: record.updated_at });
    }
    const from = previous?.record.status ?? null;
    if (from !== record.status || newSession) {
      this.#remember({ at: record.updated_at, service_name: record.service_name, instance_id: record.instance_id, from, to: record.status, reason: record.status_reason ?? '' });
      if (from !== null && from !== record.status) {
        this.#emit({ type: 'instance_status_changed', service_name: record.service_name, instance_id: record.instance_id, from, to: record.status, reason: record.status_reason ?? '', at: record.updated_at });
      }
    }
  }

  /** The stored record of an instance, with its revision. */
  get(instanceId: string): StoredRecord | undefined {
    return this.#entries.get(instanceId);
  }

  /** ONLINE instances of `serviceName` (a shared, frozen array: do not mutate). */
  online(serviceName: string): readonly InstanceRecord[] {
    return this.#online.get(serviceName) ?? EMPTY;
  }

  /** Every stored record. */
  records(): IterableIterator<StoredRecord> {
    return this.#entries.values();
  }

  /** All services, sorted by name. */
  services(): ServiceView[] {
    return [...this.#byService.keys()]
      .sort()
      .map((name) => this.service(name))
      .filter((s): s is ServiceView => s !== undefined);
  }

  /** Names of every service seen since this replica started, also those with no instance left, sorted. */
  serviceNamesSeen(): string[] {
    return [...this.#servicesSeen].sort();
  }

  /** One service, or `undefined` when no instance of it is known. */
  service(serviceName: string): ServiceView | undefined {
    const ids = this.#byService.get(serviceName);
    if (ids === undefined || ids.size === 0) return undefined;
    const instances = [...ids]
      .map((id) => this.#entries.get(id)?.record)
      .filter((r): r is InstanceRecord => r !== undefined)
      .sort((a, b) => a.instance_id.localeCompare(b.instance_id));
    const counts = { ONLINE: 0, OFFLINE: 0, UNHEALTHY: 0, total: instances.length };
    for (const i of instances) counts[i.status]++;
    return { service_name: serviceName, instances, counts };
  }

  /** Recent status changes, newest last, optionally for one service. */
  history(serviceName?: string): StatusChange[] {
    return serviceName === undefined ? [...this.#history] : this.#history.filter((h) => h.service_name === serviceName);
  }

  /** Subscribes to registry events; returns the unsubscribe function. */
  onEvent(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #refreshOnline(serviceName: string): void {
    const ids = this.#byService.get(serviceName);
    const online: InstanceRecord[] = [];
    for (const id of ids ?? []) {
      const record = this.#entries.get(id)?.record;
      if (record?.status === 'ONLINE') online.push(record);
    }
    // Sorted by id so every replica iterates instances in the same order.
    online.sort((a, b) => (a.instance_id < b.instance_id ? -1 : a.instance_id > b.instance_id ? 1 : 0));
    this.#online.set(serviceName, Object.freeze(online));
  }

  #remember(change: StatusChange): void {
    this.#history.push(change);
    if (this.#history.length > this.#historySize) this.#history.splice(0, this.#history.length - this.#historySize);
  }

  #emit(event: RegistryEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A faulty listener must not break the registry.
      }
    }
  }
}
