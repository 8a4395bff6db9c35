/**
 * Turns heartbeats into instance status (RT-3): an ONLINE instance silent for its heartbeat
 * timeout becomes UNHEALTHY (detected within timeout + one sweep, < 5 s by default), and
 * becomes ONLINE again when its heartbeats resume. The timeout is the router's, grown for an
 * instance that declared a longer heartbeat interval (ADR 0007). Also answers manual checks (RT-8) by pinging
 * instances on their control subject.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import {
  SUBJECTS,
  decode,
  encode,
  heartbeat,
  instanceControlSubject,
  parseHeartbeatSubject,
  type InstanceRecord,
} from '@aegis-ipc/protocol';
import type { Logger } from 'pino';
import type { Registry } from '../registry/registry.js';
import type { RegistryWriter } from '../registry/registry-writer.js';
import { registryRefreshAgeMs } from '../registry/registry-refresh.js';
import type { Liveness } from './liveness.js';
import { guardedCallback } from '@aegis-ipc/sdk';

export interface HealthMonitorOptions {
  /** The router's own timeout: the shortest any instance gets, so it paces the sweep. */
  readonly heartbeatTimeoutMs: number;
  readonly registryTtlMs: number;
  readonly logger: Logger;
}

/** The result of a manual check of one instance. */
export interface CheckResult {
  readonly instance_id: string;
  readonly service_name: string;
  readonly reachable: boolean;
  readonly latency_ms: number | null;
  readonly status: InstanceRecord['status'];
}

export class HealthMonitor {
  readonly #nc: NatsConnection;
  readonly #registry: Registry;
  readonly #writer: RegistryWriter;
  readonly #liveness: Liveness;
  readonly #options: HealthMonitorOptions;
  readonly #reregisterAsked = new Map<string, number>();
  #sub: Subscription | undefined;
  #sweep: NodeJS.Timeout | undefined;

  constructor(nc: NatsConnection, registry: Registry, writer: RegistryWriter, liveness: Liveness, options: HealthMonitorOptions) {
    this.#nc = nc;
    this.#registry = registry;
    this.#writer = writer;
    this.#liveness = liveness;
    this.#options = options;
    // A retired instance's sighting goes with it (ADR 0008); if it still lives, its next
    // heartbeat is a fresh sighting of an unknown instance, which is asked to register again.
    registry.onEvent((event) => {
      if (event.type === 'instance_removed') liveness.forget(event.instance_id);
    });
  }

  start(): void {
    this.#sub = this.#nc.subscribe(SUBJECTS.heartbeatAll, {
      callback: guardedCallback(
        (err, msg) => {
          if (!err) this.#onHeartbeat(msg.subject, msg.data);
        },
        (err) => this.#options.logger.error({ err }, 'a subscription callback threw; that message was dropped'),
      ),
    });
    // Sweep often enough that detection stays well under timeout + 1 s. Paced by the router's own
    // timeout, the shortest of all: a longer effective timeout only makes the sweep finer.
    const every = Math.max(100, Math.min(500, Math.floor(this.#options.heartbeatTimeoutMs / 4)));
    this.#sweep = setInterval(() => this.sweep(), every);
    this.#sweep.unref();
  }

  /** Marks ONLINE instances whose heartbeats stopped as UNHEALTHY. Runs on a timer; public for tests. */
  sweep(now = Date.now()): void {
    if (this.#reregisterAsked.size !== 0) this.#forgetOldRequests(now);
    for (const { record } of this.#registry.records()) {
      if (record.status !== 'ONLINE') continue;
      if (this.#liveness.isAlive(record, now)) continue;
      this.markUnhealthy(record.instance_id, `no heartbeat for ${this.#liveness.timeoutFor(record.heartbeat_interval_ms)} ms`);
    }
  }

  /**
   * Instances this replica holds heartbeat state for (sightings, pending re-registration
   * requests): it follows the registry, not the router's whole history (ADR 0008).
   */
  get trackedInstances(): number {
    return this.#liveness.size + this.#reregisterAsked.size;
  }

  /** Marks an instance UNHEALTHY (also used by routing after repeated timeouts). */
  markUnhealthy(instanceId: string, reason: string): void {
    this.#transition(instanceId, 'ONLINE', 'UNHEALTHY', reason);
  }

  /**
   * Pings every instance (of one service, or all) on its control subject and reports who
   * answered; instances that do not answer are marked UNHEALTHY, ones that do and heartbeat are
   * brought back ONLINE.
   */
  async checkNow(serviceName?: string, timeoutMs = 1_000): Promise<CheckResult[]> {
    const targets = [...this.#registry.records()]
      .map((s) => s.record)
      .filter((r) => r.status !== 'OFFLINE' && (serviceName === undefined || r.service_name === serviceName));
    return Promise.all(
      targets.map(async (record): Promise<CheckResult> => {
        const started = performance.now();
        const reachable = await this.#nc
          .request(instanceControlSubject(record.instance_id), encode({ type: 'ping' }), { timeout: timeoutMs })
          .then(() => true, () => false);
        const latency = reachable ? Math.round((performance.now() - started) * 100) / 100 : null;
        if (!reachable) this.markUnhealthy(record.instance_id, 'manual check: no answer to ping');
        else if (record.status === 'UNHEALTHY') this.#transition(record.instance_id, 'UNHEALTHY', 'ONLINE', 'manual check: answered ping');
        return { instance_id: record.instance_id, service_name: record.service_name, reachable, latency_ms: latency, status: this.#registry.get(record.instance_id)?.record.status ?? record.status };
      }),
    );
  }

  close(): void {
    this.#sub?.unsubscribe();
    if (this.#sweep) clearInterval(this.#sweep);
  }

  #onHeartbeat(subject: string, data: Uint8Array): void {
    const parsed = parseHeartbeatSubject(subject);
    if (parsed === undefined) return;
    let sessionId: string;
    try {
      sessionId = heartbeat.parse(decode(data, { maxBytes: 4096 })).session_id;
    } catch {
      return; // malformed heartbeats are ignored, never fatal
    }
    this.#liveness.saw(parsed.instanceId, sessionId);
    const stored = this.#registry.get(parsed.instanceId);
    if (stored === undefined) {
      this.#askToReregister(parsed.instanceId);
      return;
    }
    // Known again: forget the request so the map only holds ids that are still unknown.
    if (this.#reregisterAsked.size !== 0) this.#reregisterAsked.delete(parsed.instanceId);
    const { record } = stored;
    if (record.session_id !== sessionId) return; // a stale process heartbeating an id it lost
    if (record.status === 'UNHEALTHY') {
      this.#transition(record.instance_id, 'UNHEALTHY', 'ONLINE', 'heartbeat resumed');
    } else if (record.status === 'ONLINE' && Date.now() - Date.parse(record.updated_at) > registryRefreshAgeMs(this.#options.registryTtlMs)) {
      // Keep the KV entry younger than the bucket's max age while the instance lives.
      this.#touch(record.instance_id);
    }
  }

  #transition(instanceId: string, from: InstanceRecord['status'], to: InstanceRecord['status'], reason: string): void {
    this.#writer
      .change(instanceId, (current) => {
        if (current === undefined || current.record.status !== from) return undefined;
        return { ...current.record, status: to, status_reason: reason, updated_at: new Date().toISOString() };
      })
      .then((stored) => {
        if (stored?.record.status === to && stored.record.status_reason === reason) {
          this.#options.logger.info({ event: 'instance_status_changed', service_name: stored.record.service_name, instance_id: instanceId, from, to, reason }, `instance ${instanceId} ${from} → ${to}`);
        }
      })
      .catch((err: unknown) => this.#options.logger.error({ event: 'instance_status_change_failed', err, instance_id: instanceId, from, to }, 'status transition failed'));
  }

  #touch(instanceId: string): void {
    this.#writer
      .change(instanceId, (current) => (current === undefined ? undefined : { ...current.record, updated_at: new Date().toISOString() }))
      .catch((err: unknown) => this.#options.logger.warn({ event: 'registry_refresh_failed', err, instance_id: instanceId }, 'registry refresh failed'));
  }

  /**
   * Drops re-registration requests older than the throttle window: past it an entry no longer
   * holds anything back, and an unknown instance that died after being asked would otherwise
   * stay in the map for the router's life.
   */
  #forgetOldRequests(now: number): void {
    for (const [instanceId, at] of this.#reregisterAsked) {
      if (now - at >= this.#options.heartbeatTimeoutMs) this.#reregisterAsked.delete(instanceId);
    }
  }

  #askToReregister(instanceId: string): void {
    // Throttled by the router's own timeout: an unknown instance has declared no interval here.
    const now = Date.now();
    const last = this.#reregisterAsked.get(instanceId) ?? 0;
    if (now - last < this.#options.heartbeatTimeoutMs) return;
    this.#reregisterAsked.set(instanceId, now);
    this.#nc.publish(instanceControlSubject(instanceId), encode({ type: 'reregister' }));
  }
}
