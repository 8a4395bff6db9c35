/**
 * Serves `ipc.service.register` and `ipc.service.unregister` (REG-1…REG-7) in the router queue
 * group, so each request is handled by exactly one replica.
 *
 * Rules for an instance id already in the registry:
 * - same session (the SDK tags each process) → idempotent: same `registered_at`, no duplicate
 *   (a changed service name, metadata or heartbeat interval is written);
 * - a different session that is still alive (heartbeating, or registered within its timeout) →
 *   409 `REGISTRATION_CONFLICT` carrying the existing instance;
 * - a different session that is `OFFLINE`, `UNHEALTHY` or silent → taken over.
 *
 * A declared `heartbeat_interval_ms` is kept and judged by (ADR 0007): the reply carries the
 * instance's effective timeout, and an interval the registry could not keep alive is refused.
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import {
  AegisError,
  MAX_METADATA_BYTES,
  QUEUE_GROUPS,
  SUBJECTS,
  decode,
  encode,
  errorReply,
  registerRequest,
  toAegisError,
  unregisterRequest,
  type InstanceRecord,
  type RegisterReply,
  type RegisterRequest,
  type UnregisterReply,
} from '@aegis-ipc/protocol';
import type { Logger } from 'pino';
import type { Liveness } from '../health/liveness.js';
import type { RegistryWriter } from './registry-writer.js';
import { checkDeclaredHeartbeatInterval } from './registry-refresh.js';
import { guardedCallback } from '@aegis-ipc/sdk';

export interface RegistrationServiceOptions {
  /** The interval stored for (and told to) an instance that declares none. */
  readonly heartbeatIntervalMs: number;
  /** Bounds a declared interval: the registry entry must be refreshed before it expires. */
  readonly registryTtlMs: number;
  readonly logger: Logger;
}

export class RegistrationService {
  readonly #nc: NatsConnection;
  readonly #writer: RegistryWriter;
  readonly #liveness: Liveness;
  readonly #options: RegistrationServiceOptions;
  readonly #subs: Subscription[] = [];

  constructor(nc: NatsConnection, writer: RegistryWriter, liveness: Liveness, options: RegistrationServiceOptions) {
    this.#nc = nc;
    this.#writer = writer;
    this.#liveness = liveness;
    this.#options = options;
  }

  start(): void {
    const queue = QUEUE_GROUPS.router;
    this.#subs.push(
      this.#nc.subscribe(SUBJECTS.register, { queue, callback: guardedCallback((err, msg) => {
        if (!err) void this.#serve(msg, (m) => this.register(m));
      }, (err) => this.#options.logger.error({ err }, 'a subscription callback threw; that message was dropped')) }),
      this.#nc.subscribe(SUBJECTS.unregister, { queue, callback: guardedCallback((err, msg) => {
        if (!err) void this.#serve(msg, (m) => this.unregister(m));
      }, (err) => this.#options.logger.error({ err }, 'a subscription callback threw; that message was dropped')) }),
    );
  }

  close(): void {
    for (const sub of this.#subs) sub.unsubscribe();
  }

  /**
   * Registers an instance from a decoded request body.
   * @throws AegisError `VALIDATION_FAILED` (also for a heartbeat interval of half the registry TTL
   * or more), `PAYLOAD_TOO_LARGE`, `REGISTRATION_CONFLICT`, `STORAGE_FAILURE`.
   */
  async register(body: unknown): Promise<RegisterReply> {
    const request = registerRequest.parse(body, 'registration');
    checkDeclaredHeartbeatInterval(request.heartbeat_interval_ms, this.#options.registryTtlMs);
    const intervalMs = request.heartbeat_interval_ms ?? this.#options.heartbeatIntervalMs;
    const metadata = request.metadata ?? {};
    const metadataBytes = encode(metadata).length;
    if (metadataBytes > MAX_METADATA_BYTES) {
      throw new AegisError('PAYLOAD_TOO_LARGE', `metadata of ${metadataBytes} bytes exceeds ${MAX_METADATA_BYTES}`, {
        details: { size: metadataBytes, limit: MAX_METADATA_BYTES },
      });
    }
    const sessionId = request.session_id ?? request.instance_id;
    const now = new Date().toISOString();
    let conflict: InstanceRecord | undefined;
    let idempotent = false;

    const stored = await this.#writer.change(request.instance_id, (current) => {
      conflict = undefined;
      idempotent = false;
      const existing = current?.record;
      if (existing !== undefined && existing.session_id === sessionId) {
        idempotent = true;
        if (
          existing.status === 'ONLINE' &&
          existing.service_name === request.service_name &&
          existing.heartbeat_interval_ms === intervalMs &&
          sameJson(existing.metadata, metadata)
        ) {
          return undefined; // nothing to write: a pure repeat
        }
        return { ...existing, service_name: request.service_name, metadata, heartbeat_interval_ms: intervalMs, status: 'ONLINE', status_reason: 'registered again', updated_at: now };
      }
      if (existing !== undefined && existing.status === 'ONLINE' && this.#liveness.isAlive(existing)) {
        conflict = existing;
        return undefined;
      }
      return {
        service_name: request.service_name,
        instance_id: request.instance_id,
        status: 'ONLINE',
        metadata,
        session_id: sessionId,
        registered_at: now,
        updated_at: now,
        heartbeat_interval_ms: intervalMs,
        status_reason: existing === undefined ? 'registered' : `taken over from ${existing.status} session`,
      };
    });

    if (conflict !== undefined) {
      this.#options.logger.warn({ event: 'registration_conflict', service_name: request.service_name, instance_id: request.instance_id }, 'instance id held by another live registration');
      throw new AegisError('REGISTRATION_CONFLICT', `instance "${request.instance_id}" is already registered by another live process`, {
        details: { existing: publicView(conflict) },
      });
    }
    if (stored === undefined) throw new AegisError('INTERNAL', 'registration was not stored');
    this.#liveness.saw(request.instance_id, sessionId);
    const heartbeatIntervalMs = stored.record.heartbeat_interval_ms;
    const heartbeatTimeoutMs = this.#liveness.timeoutFor(heartbeatIntervalMs);
    this.#options.logger.info(
      {
        event: idempotent ? 'instance_reregistered' : 'instance_registered',
        service_name: request.service_name,
        instance_id: request.instance_id,
        session_id: sessionId,
        metadata,
        heartbeat_interval_ms: heartbeatIntervalMs,
        heartbeat_timeout_ms: heartbeatTimeoutMs,
      },
      idempotent ? 'instance registered again (idempotent)' : 'instance registered',
    );
    return {
      service_name: stored.record.service_name,
      instance_id: stored.record.instance_id,
      status: stored.record.status,
      registered_at: stored.record.registered_at,
      timestamp: now,
      idempotent,
      heartbeat_interval_ms: heartbeatIntervalMs,
      heartbeat_timeout_ms: heartbeatTimeoutMs,
    };
  }

  /** Marks an instance OFFLINE (REG-5). Unregistering an unknown or foreign session is a no-op reply. */
  async unregister(body: unknown): Promise<UnregisterReply> {
    const request = unregisterRequest.parse(body, 'unregistration');
    const sessionId = request.session_id ?? request.instance_id;
    const now = new Date().toISOString();
    const stored = await this.#writer.change(request.instance_id, (current) => {
      const existing = current?.record;
      if (existing === undefined || existing.session_id !== sessionId || existing.status === 'OFFLINE') return undefined;
      return { ...existing, status: 'OFFLINE', status_reason: 'unregistered', updated_at: now };
    });
    if (stored?.record.session_id === sessionId) this.#liveness.forget(request.instance_id);
    this.#options.logger.info({ event: 'instance_unregistered', service_name: request.service_name, instance_id: request.instance_id, session_id: sessionId }, 'instance unregistered');
    return { service_name: request.service_name, instance_id: request.instance_id, status: stored?.record.status ?? 'OFFLINE', timestamp: now };
  }

  async #serve(msg: Msg, handle: (body: unknown) => Promise<unknown>): Promise<void> {
    let reply: unknown;
    try {
      reply = await handle(decode(msg.data));
    } catch (err) {
      const e = toAegisError(err);
      if (e.status >= 500) this.#options.logger.error({ err: e, subject: msg.subject }, 'registration request failed');
      else this.#options.logger.info({ event: 'registration_rejected', code: e.code, reason: e.message }, 'registration rejected');
      reply = errorReply(e);
    }
    if (msg.reply) msg.respond(encode(reply));
  }
}

/** What a 409 reveals about the holder: identity, status and timing, not the session id. */
function publicView(record: InstanceRecord): Record<string, unknown> {
  return {
    service_name: record.service_name,
    instance_id: record.instance_id,
    status: record.status,
    metadata: record.metadata,
    registered_at: record.registered_at,
    updated_at: record.updated_at,
  };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export type { RegisterRequest };
