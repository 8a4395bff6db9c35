/**
 * The admin HTTP server (fastify): admin REST API under `/api/v1/admin`, OpenAPI at `/docs`
 * (JSON at `/docs/json`), `/health`, and `/metrics` for Prometheus. Route groups are plugins so
 * later features add theirs without touching this file.
 */
import Fastify, { LogController, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from 'pino';
import type { Registry as PromRegistry } from 'prom-client';
import { registerAdminAuth } from './admin-auth.js';
import { registerErrorHandler } from './error-handler.js';
import { healthRoutes, type HealthProbe } from './health-routes.js';

export const ADMIN_PREFIX = '/api/v1/admin';

export interface AdminServerOptions {
  readonly logger: Logger;
  readonly adminToken: string | undefined;
  readonly metrics: PromRegistry;
  readonly healthProbes: Readonly<Record<string, HealthProbe>>;
  /** Plugins mounted under `/api/v1/admin`. */
  readonly adminPlugins: readonly FastifyPluginAsync[];
  /** Plugins mounted at the root (dashboards, SSE streams). */
  readonly rootPlugins?: readonly FastifyPluginAsync[];
  readonly version: string;
  /** The router replica serving this API, shown in `/health`. */
  readonly routerId: string;
}

export async function buildAdminServer(options: AdminServerOptions): Promise<FastifyInstance> {
  // pino's Logger is structurally a FastifyBaseLogger; the cast only widens fastify's generic.
  const app = Fastify({
    loggerInstance: options.logger.child({ subsystem: 'admin-api' }),
    // Per-request lines would drown the registry events; errors are still logged by the handler.
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  registerErrorHandler(app);
  registerAdminAuth(app, options.adminToken);
  await app.register(swagger, {
    openapi: {
      info: { title: 'AegisIPC admin API', version: options.version, description: 'Registry, health, routing diagnostics and delivery status of an AegisIPC router.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: options.adminToken === undefined ? [] : [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(healthRoutes(options.healthProbes, options.version, options.routerId));
  app.get('/metrics', { schema: { tags: ['metrics'], summary: 'Prometheus metrics', hide: false } }, async (_req, reply) => {
    return reply.type(options.metrics.contentType).send(await options.metrics.metrics());
  });
  for (const plugin of options.adminPlugins) await app.register(plugin, { prefix: ADMIN_PREFIX });
  for (const plugin of options.rootPlugins ?? []) await app.register(plugin);
  return app;
}
