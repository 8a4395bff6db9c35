/**
 * Heartbeat liveness as this replica has seen it. Every replica subscribes to every heartbeat
 * (no queue group), so each can judge liveness on its own without coordination. Each instance is
 * judged by its effective timeout, which grows with the heartbeat interval it declared (ADR 0007).
 */
import type { InstanceRecord } from '@aegis-ipc/protocol';
import { effectiveHeartbeatTimeout, type HeartbeatSettings } from './effective-heartbeat-timeout.js';

export interface Sighting {
  /** `Date.now()` of the last heartbeat. */
  readonly at: number;
  readonly sessionId: string;
}

/** What liveness needs of a registry record. */
export type LivenessSubject = Pick<InstanceRecord, 'instance_id' | 'session_id' | 'updated_at' | 'heartbeat_interval_ms'>;

export class Liveness {
  readonly #seen = new Map<string, Sighting>();
  readonly #startedAt: number;
  readonly #settings: HeartbeatSettings;

  constructor(settings: HeartbeatSettings, now = Date.now()) {
    this.#settings = { heartbeatIntervalMs: settings.heartbeatIntervalMs, heartbeatTimeoutMs: settings.heartbeatTimeoutMs };
    this.#startedAt = now;
  }

  /** The timeout of an instance that declared `declaredIntervalMs` (the router's own when undefined). */
  timeoutFor(declaredIntervalMs: number | undefined): number {
    return effectiveHeartbeatTimeout(declaredIntervalMs, this.#settings);
  }

  /** Records a heartbeat; returns the previous sighting. */
  saw(instanceId: string, sessionId: string, now = Date.now()): Sighting | undefined {
    const previous = this.#seen.get(instanceId);
    this.#seen.set(instanceId, { at: now, sessionId });
    return previous;
  }

  last(instanceId: string): Sighting | undefined {
    return this.#seen.get(instanceId);
  }

  forget(instanceId: string): void {
    this.#seen.delete(instanceId);
  }

  /**
   * Forgets sightings of instances `known` rejects that have been silent for longer than the
   * router's timeout: heartbeats from an id that never registers again (a late beat after its
   * retirement, a stray process) must not stay for the router's life (ADR 0008). Sightings of
   * known instances stay — `last_heartbeat_at` of an UNHEALTHY one is worth showing.
   */
  forgetUnknown(known: (instanceId: string) => boolean, now = Date.now()): void {
    const timeoutMs = this.#settings.heartbeatTimeoutMs;
    for (const [instanceId, seen] of this.#seen) {
      if (now - seen.at > timeoutMs && !known(instanceId)) this.#seen.delete(instanceId);
    }
  }

  /** Instances with a sighting (diagnostics and tests: it must follow the registry, not history). */
  get size(): number {
    return this.#seen.size;
  }

  /**
   * True when this replica heard the record's session heartbeat within its effective timeout, or
   * started too recently to have heard it. Unlike `isAlive`, a recent write (`updated_at`) does
   * not count: retirement asks whether the process is still beating, not whether the record is new.
   */
  heardFrom(record: LivenessSubject, now = Date.now()): boolean {
    const timeoutMs = this.timeoutFor(record.heartbeat_interval_ms);
    const seen = this.#seen.get(record.instance_id);
    if (seen === undefined) return now - this.#startedAt <= timeoutMs;
    return seen.sessionId === record.session_id && now - seen.at <= timeoutMs;
  }

  /**
   * True when the record's session counts as alive within its effective timeout: it heartbeated,
   * or it (re)registered (`updated_at`), or this replica started too recently to have seen a
   * heartbeat yet (a restarted router must not evict live instances, however long their interval).
   */
  isAlive(record: LivenessSubject, now = Date.now()): boolean {
    const timeoutMs = this.timeoutFor(record.heartbeat_interval_ms);
    const seen = this.#seen.get(record.instance_id);
    if (seen !== undefined && seen.sessionId === record.session_id && now - seen.at <= timeoutMs) return true;
    if (now - Date.parse(record.updated_at) <= timeoutMs) return true;
    return seen === undefined && now - this.#startedAt <= timeoutMs;
  }
}
