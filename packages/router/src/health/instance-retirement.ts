/**
 * Retires dead instances (SPEC RT-7 "no memory growth over long runs", REG-8; ADR 0008): the
 * registry entry of an instance that has been OFFLINE or UNHEALTHY for longer than
 * `AEGIS_INSTANCE_RETENTION_MS`, and that this replica has not heard heartbeat within its
 * timeout, is deleted. The delete marker reaches every replica's watcher, and each drops what it
 * holds for the instance on `instance_removed` (liveness, routing counts, metric series).
 *
 * A sweep of its own, slower than the health sweep: detection of a dead instance is latency
 * critical (RT-3, every 100–500 ms), retirement is not — a quarter of the retention, within
 * 250 ms…30 s, keeps the fast sweep's per-record work as it was and the KV deletes few.
 * An instance retired while alive (partitioned longer than the retention) is asked to register
 * again by its next heartbeat, which finds no record.
 */
import type { InstanceRecord } from '@aegis-ipc/protocol';
import type { Logger } from 'pino';
import type { Registry } from '../registry/registry.js';
import type { RegistryWriter } from '../registry/registry-writer.js';
import type { StoredRecord } from '../registry/registry-store.js';
import type { Liveness } from './liveness.js';

export interface InstanceRetirementOptions {
  /** How long an OFFLINE or UNHEALTHY instance stays listed (`AEGIS_INSTANCE_RETENTION_MS`). */
  readonly retentionMs: number;
  readonly logger: Logger;
}

/** Sweep period for a retention: a quarter of it, within 250 ms…30 s. */
export function retirementSweepMs(retentionMs: number): number {
  return Math.max(250, Math.min(30_000, Math.floor(retentionMs / 4)));
}

/** How long `record` has been in its current status at `now` (ms, by `updated_at`). */
export function msInStatus(record: Pick<InstanceRecord, 'updated_at'>, now: number): number {
  return now - Date.parse(record.updated_at);
}

/** True when `record` has been OFFLINE or UNHEALTHY for longer than `retentionMs` at `now`. */
export function pastRetention(record: Pick<InstanceRecord, 'status' | 'updated_at'>, now: number, retentionMs: number): boolean {
  return record.status !== 'ONLINE' && msInStatus(record, now) > retentionMs;
}

export class InstanceRetirement {
  readonly #registry: Registry;
  readonly #writer: RegistryWriter;
  readonly #liveness: Liveness;
  readonly #options: InstanceRetirementOptions;
  #timer: NodeJS.Timeout | undefined;
  /** A timed sweep is running: the next tick skips rather than doubling it. */
  #sweeping = false;

  constructor(registry: Registry, writer: RegistryWriter, liveness: Liveness, options: InstanceRetirementOptions) {
    this.#registry = registry;
    this.#writer = writer;
    this.#liveness = liveness;
    this.#options = options;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (this.#sweeping) return;
      this.#sweeping = true;
      void this.sweep().finally(() => (this.#sweeping = false));
    }, retirementSweepMs(this.#options.retentionMs));
    this.#timer.unref();
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Retires every instance due at `now` (the clock when not given), one at a time: a burst of dead
   * instances costs KV one delete after another, not all at once. Resolves to how many this
   * replica deleted. Never rejects. Runs on a timer; public for tests.
   */
  async sweep(fixedNow?: number): Promise<number> {
    this.#liveness.forgetUnknown((id) => this.#registry.get(id) !== undefined, fixedNow);
    const due = (stored: StoredRecord) => {
      const now = fixedNow ?? Date.now();
      return pastRetention(stored.record, now, this.#options.retentionMs) && !this.#liveness.heardFrom(stored.record, now);
    };
    const candidates = [...this.#registry.records()].filter(due).map((s) => s.record.instance_id);
    let removed = 0;
    for (const instanceId of candidates) {
      if (await this.#retire(instanceId, due, fixedNow)) removed++;
    }
    return removed;
  }

  async #retire(instanceId: string, due: (stored: StoredRecord) => boolean, fixedNow: number | undefined): Promise<boolean> {
    const { logger, retentionMs } = this.#options;
    try {
      const result = await this.#writer.retire(instanceId, due);
      if (result.outcome === 'kept') {
        if (result.why !== 'not_due' && logger.isLevelEnabled('debug')) {
          logger.debug({ event: 'instance_retirement_skipped', instance_id: instanceId, why: result.why }, 'instance not retired: another replica or the instance got there first');
        }
        return false;
      }
      const { record } = result.stored;
      const deadMs = msInStatus(record, fixedNow ?? Date.now());
      logger.info(
        { event: 'instance_retired', service_name: record.service_name, instance_id: instanceId, status: record.status, dead_ms: deadMs, retention_ms: retentionMs, ...(result.outcome === 'expired' && { expired_from_kv: true }) },
        `instance ${instanceId} retired after ${deadMs} ms ${record.status}`,
      );
      return result.outcome === 'removed';
    } catch (err) {
      // KV is unreachable or failing: the next sweep tries again.
      logger.warn({ event: 'instance_retirement_failed', err, instance_id: instanceId }, 'could not retire an instance; will try again');
      return false;
    }
  }
}
