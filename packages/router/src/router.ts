/**
 * The router process: registry (KV-backed, watched), registration service, health monitor,
 * admin API with metrics — composed here and nowhere else. Start several replicas against one
 * NATS and they share the work through queue groups and agree through the KV bucket.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { resolveRouterSettings, type RouterOptions, type RouterSettings } from './config/router-settings.js';
import { connectOrStartNats, type NatsHandle } from './nats/embedded-nats-server.js';
import { createRouterLogger } from './logger.js';
import { Registry } from './registry/registry.js';
import { RegistryStore } from './registry/registry-store.js';
import { RegistryWriter } from './registry/registry-writer.js';
import { RegistrationService } from './registry/registration-service.js';
import { Liveness } from './health/liveness.js';
import { HealthMonitor } from './health/health-monitor.js';
import { InstanceRetirement } from './health/instance-retirement.js';
import { RouterMetrics } from './metrics/router-metrics.js';
import { buildAdminServer } from './admin-api/admin-server.js';
import { servicesRoutes } from './admin-api/services-routes.js';
import { healthHistoryRoutes } from './admin-api/health-history-routes.js';
import { RouteService } from './routing/route-service.js';
import { routingRoutes } from './admin-api/routing-routes.js';
import { TraceLookup } from './routing/trace-lookup.js';
import { newRouterId } from './router-id.js';
import { MessageStatusService } from './delivery/message-status-service.js';
import { deliveryRoutes } from './admin-api/delivery-routes.js';
import { outboxRoutes } from './admin-api/outbox-routes.js';
import { outboxStatsSource } from './admin-api/outbox-stats-source.js';
import { dashboardPlugin } from './dashboard/dashboard-plugin.js';

export const ROUTER_VERSION = '0.1.0';

/** What `Router.start` accepts besides settings: injected collaborators for embedding and tests. */
export interface RouterStartOptions extends RouterOptions {
  /** Use this connection instead of connecting (it is not closed by the router). */
  readonly nc?: NatsConnection;
  readonly logger?: Logger;
  /** Start the admin HTTP server. @default true */
  readonly http?: boolean;
}

export class Router implements AsyncDisposable {
  /** This replica's id for its lifetime (`<hostname>-<pid>-<4 hex>`): in `/health`, its logs and its traces. */
  readonly id: string;
  readonly settings: RouterSettings;
  readonly logger: Logger;
  readonly nc: NatsConnection;
  readonly registry: Registry;
  readonly health: HealthMonitor;
  /** Deletes the entries of instances dead for longer than the retention (ADR 0008). */
  readonly retirement: InstanceRetirement;
  readonly metrics: RouterMetrics;
  /** Routed calls on `ipc.route.request`: strategy, failover, breakers, traces (issue 3). */
  readonly routing: RouteService;
  /** The admin API base URL (`http://host:port`), when HTTP is on. */
  readonly url: string | undefined;
  readonly #nats: NatsHandle | undefined;
  readonly #store: RegistryStore;
  readonly #registration: RegistrationService;
  readonly #http: FastifyInstance | undefined;
  readonly #messageStatus: MessageStatusService | undefined;
  readonly #traceLookup: TraceLookup;
  #closed = false;

  private constructor(parts: {
    id: string; traceLookup: TraceLookup; settings: RouterSettings; logger: Logger; nc: NatsConnection; nats: NatsHandle | undefined; registry: Registry; store: RegistryStore;
    registration: RegistrationService; health: HealthMonitor; retirement: InstanceRetirement; metrics: RouterMetrics; routing: RouteService; http: FastifyInstance | undefined; url: string | undefined;
    messageStatus?: MessageStatusService;
  }) {
    this.id = parts.id;
    this.#traceLookup = parts.traceLookup;
    this.settings = parts.settings;
    this.logger = parts.logger;
    this.nc = parts.nc;
    this.#nats = parts.nats;
    this.registry = parts.registry;
    this.#store = parts.store;
    this.#registration = parts.registration;
    this.health = parts.health;
    this.retirement = parts.retirement;
    this.metrics = parts.metrics;
    this.routing = parts.routing;
    this.#messageStatus = parts.messageStatus;
    this.#http = parts.http;
    this.url = parts.url;
  }

  /**
   * Starts a router replica.
   * @throws AegisError `CONFIG_INVALID` for bad settings, `CONNECTION_FAILED` when NATS cannot be
   * reached or started, `STORAGE_FAILURE` when JetStream KV is unavailable.
   * @example
   * const router = await Router.start({ httpPort: 8080 });
   * process.once('SIGINT', () => void router.close());
   */
  static async start(options: RouterStartOptions = {}): Promise<Router> {
    const { nc: givenNc, logger: givenLogger, http = true, ...overrides } = options;
    const settings = resolveRouterSettings(overrides);
    const id = newRouterId();
    const logger = (givenLogger ?? createRouterLogger(settings.logLevel)).child({ router_id: id });
    const nats = givenNc ? undefined : await connectOrStartNats({ url: settings.natsUrl, embedded: settings.embeddedNats, dataDir: settings.dataDir, name: 'aegis-router', logger });
    const nc = givenNc ?? nats!.nc;
    try {
      const registry = new Registry(settings.historySize);
      const store = await RegistryStore.open(nc, { bucket: settings.registryBucket, ttlMs: settings.registryTtlMs, logger });
      const metrics = new RouterMetrics(registry);
      // Status changes are logged once, by the component that writes them (the health monitor's
      // instance_status_changed, the registration service's instance_unregistered): a line per
      // registry event repeated each of them here, and on every replica that watched the write.
      await store.watch((change) => registry.apply(change));
      const writer = new RegistryWriter(store, registry, nc);
      const liveness = new Liveness(settings);
      const health = new HealthMonitor(nc, registry, writer, liveness, { heartbeatTimeoutMs: settings.heartbeatTimeoutMs, registryTtlMs: settings.registryTtlMs, logger });
      const retirement = new InstanceRetirement(registry, writer, liveness, { retentionMs: settings.instanceRetentionMs, logger });
      const registration = new RegistrationService(nc, writer, liveness, { heartbeatIntervalMs: settings.heartbeatIntervalMs, registryTtlMs: settings.registryTtlMs, logger });
      const routing = new RouteService(nc, registry, health, metrics, settings, logger.child({ subsystem: 'routing' }));
      health.start();
      retirement.start();
      registration.start();
      routing.start();
      // Every replica answers trace lookups, with or without an admin API of its own.
      const traceLookup = new TraceLookup(nc, routing.traces, id, logger.child({ subsystem: 'routing' }));
      traceLookup.start();
      // Exactly-once calls (issue 4): status on ipc.message.status; states live in JetStream KV.
      const messageStatus = new MessageStatusService(nc, logger.child({ subsystem: 'delivery' }), metrics.stalledParksAbandoned);
      messageStatus.start();

      let app: FastifyInstance | undefined;
      let url: string | undefined;
      if (http) {
        // Optional: the outbox backlog (and PostgreSQL's health), when this router is told where the outbox lives.
        const outboxStats = settings.outboxDatabaseUrl === undefined ? undefined : outboxStatsSource(settings.outboxDatabaseUrl, logger.child({ subsystem: 'outbox-stats' }));
        app = await buildAdminServer({
          logger,
          adminToken: settings.adminToken,
          metrics: metrics.registry,
          version: ROUTER_VERSION,
          routerId: id,
          healthProbes: {
            nats: () => (nc.isClosed() ? { status: 'down', detail: 'connection closed' } : { status: 'up', detail: nc.getServer() }),
            jetstream_kv: async () => {
              await store.get('__health__');
              return { status: 'up', detail: `bucket ${settings.registryBucket}` };
            },
            // Routing does not need PostgreSQL, so an unreachable outbox degrades the router
            // instead of taking it out of rotation (readiness stays up).
            ...(outboxStats === undefined
              ? {}
              : {
                  postgresql: () =>
                    outboxStats.read().then(
                      () => ({ status: 'up' as const, detail: 'outbox tables readable' }),
                      (err: unknown) => ({ status: 'degraded' as const, detail: `outbox unreadable: ${(err as Error).message}` }),
                    ),
                }),
          },
          adminPlugins: [
            servicesRoutes(registry, liveness),
            healthHistoryRoutes(registry, health),
            routingRoutes(routing, traceLookup),
            deliveryRoutes(nc, messageStatus),
            ...(outboxStats === undefined ? [] : [outboxRoutes(outboxStats)]),
          ],
          rootPlugins: [dashboardPlugin({ adminToken: settings.adminToken })],
        });
        url = await app.listen({ host: settings.httpHost, port: settings.httpPort });
      }
      // router_id comes from the logger's binding (every line of this replica carries it).
      logger.info({ event: 'router_started', nats: nc.getServer(), admin_url: url, embedded_nats: nats?.embedded?.pid }, `router started${url ? `; admin API on ${url}` : ''}`);
      return new Router({ id, traceLookup, settings, logger, nc, nats, registry, store, registration, health, retirement, metrics, routing, http: app, url, messageStatus });
    } catch (err) {
      await nats?.close();
      throw err;
    }
  }

  /** Stops serving, closes the admin API, drains NATS (and stops an embedded server). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.routing.close();
    this.#traceLookup.close();
    this.#messageStatus?.close();
    this.#registration.close();
    this.health.close();
    this.retirement.close();
    this.#store.close();
    await this.#http?.close();
    await this.#nats?.close();
    this.logger.info({ event: 'router_stopped' }, 'router stopped');
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
