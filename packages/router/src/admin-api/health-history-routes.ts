/**
 * Live health diagnostics (RT-8): instance health with recent state changes, and a manual check
 * that pings instances now (`POST …/health/check`).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { NameToken, Type } from '@aegis-ipc/protocol';
import type { Registry } from '../registry/registry.js';
import type { HealthMonitor } from '../health/health-monitor.js';

export function healthHistoryRoutes(registry: Registry, health: HealthMonitor): FastifyPluginAsync {
  return async (app) => {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const query = Type.Object({ service: Type.Optional(NameToken('Only this service.')), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })) });
    api.get('/health/instances', { schema: { tags: ['health'], summary: 'Instance health and recent state changes', querystring: query } }, async (request) => {
      const { service, limit = 50 } = request.query;
      const services = service === undefined ? registry.services() : [registry.service(service)].filter((s) => s !== undefined);
      return { services, history: registry.history(service).slice(-limit) };
    });
    api.post('/health/check', { schema: { tags: ['health'], summary: 'Ping instances now; silent ones become UNHEALTHY', querystring: query } }, async (request) => {
      return { results: await health.checkNow(request.query.service) };
    });
  };
}
