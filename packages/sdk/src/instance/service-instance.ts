/**
 * A registered service instance: it heartbeats on `ipc.heartbeat.{service}.{instance}`, answers
 * the router's control messages (`ping`, `reregister`) and unregisters on `close()` (REG-5).
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import {
  SUBJECTS,
  decode,
  encode,
  heartbeatSubject,
  instanceControl,
  instanceControlSubject,
  type RegisterReply,
  type UnregisterReply,
} from '@aegis-ipc/protocol';
import type { Logger } from 'pino';
import { requestReply } from '../transport/request-reply.js';
import { MethodTable, type MethodHandler } from './method-table.js';
import { InboxServer } from './inbox-server.js';
import { guardedCallback } from '../transport/guarded-callback.js';

/** What a ServiceInstance needs from the client that registered it. */
export interface InstanceContext {
  readonly nc: NatsConnection;
  readonly logger: Logger;
  readonly sessionId: string;
  readonly requestTimeoutMs: number;
  /** Run handlers with AsyncLocalStorage call context (see `ClientOptions.asyncCallContext`). */
  readonly asyncCallContext?: boolean;
  /** Registers again with the same data (used when the router asks). */
  readonly reregister: () => Promise<RegisterReply>;
  /** Called once the instance is closed, so the client forgets it. */
  readonly onClosed: (instance: ServiceInstance) => void;
}

export class ServiceInstance implements AsyncDisposable {
  readonly serviceName: string;
  readonly instanceId: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** When the router first registered this instance (REG-1). */
  registeredAt: string;
  readonly #ctx: InstanceContext;
  readonly #heartbeatPayload: Uint8Array;
  readonly #subject: string;
  #heartbeat: NodeJS.Timeout | undefined;
  #control: Subscription | undefined;
  #closed = false;
  /** Methods served on `ipc.instance.{instance_id}.inbox`; shared with other transports. */
  readonly methods = new MethodTable();
  readonly #inbox: InboxServer;

  constructor(ctx: InstanceContext, serviceName: string, instanceId: string, metadata: Readonly<Record<string, unknown>>, reply: RegisterReply) {
    this.#ctx = ctx;
    this.serviceName = serviceName;
    this.instanceId = instanceId;
    this.metadata = metadata;
    this.registeredAt = reply.registered_at;
    this.#heartbeatPayload = encode({ session_id: ctx.sessionId });
    this.#subject = heartbeatSubject(serviceName, instanceId);
    this.#inbox = new InboxServer(ctx.nc, this.methods, { serviceName, instanceId, logger: ctx.logger, asyncCallContext: ctx.asyncCallContext ?? false });
    // Listen before the first heartbeat: the router may route to us as soon as it sees us ONLINE.
    this.#inbox.start();
    this.#startHeartbeat(reply.heartbeat_interval_ms);
    this.#control = ctx.nc.subscribe(instanceControlSubject(instanceId), { callback: guardedCallback((err, msg) => {
      if (err) return;
      let type: string;
      try {
        type = instanceControl.parse(decode(msg.data, { maxBytes: 4096 })).type;
      } catch {
        return;
      }
      if (type === 'ping') {
        if (msg.reply) msg.respond(encode({ instance_id: instanceId, session_id: ctx.sessionId, timestamp: new Date().toISOString() }));
      } else {
        this.#reregister();
      }
    }, (err) => ctx.logger.error({ err }, 'a subscription callback threw; that message was dropped')) });
  }

  /** The NATS connection this instance lives on (for features layered on the instance). */
  get nc(): NatsConnection {
    return this.#ctx.nc;
  }

  /** The logger of the client that registered this instance (features layered on it log there too). */
  get logger(): Logger {
    return this.#ctx.logger;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Serves `method`: routed calls to this service's `method` that land on this instance run
   * `handler`; its return value (or resolved value) is the caller's result. A thrown AegisError
   * reaches the caller with its code; anything else thrown becomes `APPLICATION_ERROR` (not
   * retried on another instance).
   * @throws AegisError `INVALID_NAME` when `method` is not a subject token.
   * @example
   * instance.handle('echo', (params) => params).handle('add', ({ a, b }) => Number(a) + Number(b));
   */
  handle(method: string, handler: MethodHandler): this {
    this.methods.set(method, handler);
    return this;
  }

  /** Stops heartbeats and unregisters (the router marks the instance OFFLINE). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#control?.unsubscribe();
    this.#inbox.close();
    this.#ctx.onClosed(this);
    if (this.#ctx.nc.isClosed()) return;
    try {
      await requestReply<UnregisterReply>(
        this.#ctx.nc,
        SUBJECTS.unregister,
        { service_name: this.serviceName, instance_id: this.instanceId, session_id: this.#ctx.sessionId },
        { timeoutMs: this.#ctx.requestTimeoutMs },
      );
      this.#ctx.logger.info({ event: 'instance_unregistered', service_name: this.serviceName, instance_id: this.instanceId }, 'unregistered');
    } catch (err) {
      // The router will mark it UNHEALTHY when heartbeats stop; closing must still finish.
      this.#ctx.logger.warn({ event: 'instance_unregister_failed', err, service_name: this.serviceName, instance_id: this.instanceId }, 'unregister failed; the router will notice missing heartbeats');
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #startHeartbeat(intervalMs: number): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    const beat = () => {
      if (!this.#ctx.nc.isClosed()) this.#ctx.nc.publish(this.#subject, this.#heartbeatPayload);
    };
    beat();
    this.#heartbeat = setInterval(beat, intervalMs);
    this.#heartbeat.unref();
  }

  #reregister(): void {
    if (this.#closed) return;
    this.#ctx
      .reregister()
      .then((reply) => {
        this.registeredAt = reply.registered_at;
        this.#ctx.logger.info({ event: 'instance_reregistered', service_name: this.serviceName, instance_id: this.instanceId }, 'registered again at the router\'s request');
      })
      .catch((err: unknown) => this.#ctx.logger.warn({ event: 'instance_reregister_failed', err, service_name: this.serviceName, instance_id: this.instanceId }, 're-registration failed; will retry when asked again'));
  }
}
