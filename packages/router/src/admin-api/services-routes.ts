/** `GET /api/v1/admin/services` and `GET /api/v1/admin/services/{service_name}` (REG-3). */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AegisError, NameToken, Type } from '@aegis-ipc/protocol';
import type { Registry, ServiceView } from '../registry/registry.js';
import type { Liveness } from '../health/liveness.js';
import { ServiceSchema, ServicesResponse, WireErrorSchema } from './schemas.js';

export function servicesRoutes(registry: Registry, liveness: Liveness): FastifyPluginAsync {
  // The registry keeps transitions only (heartbeats are not written to KV); the last heartbeat
  // this replica saw is added to each instance as it is shown.
  const withHeartbeats = (service: ServiceView): ServiceView => ({
    ...service,
    instances: service.instances.map((i) => {
      const seen = liveness.last(i.instance_id);
      return seen === undefined || seen.sessionId !== i.session_id ? i : { ...i, last_heartbeat_at: new Date(seen.at).toISOString() };
    }),
  });
  return async (app) => {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    api.get(
      '/services',
      { schema: { tags: ['registry'], summary: 'All services with their instances and counts', response: { 200: ServicesResponse } } },
      async () => {
        const services = registry.services().map(withHeartbeats);
        return { services, total_services: services.length, total_instances: services.reduce((n, s) => n + s.counts.total, 0) };
      },
    );
    api.get(
      '/services/:service_name',
      {
        schema: {
          tags: ['registry'],
          summary: 'One service with its instances',
          params: Type.Object({ service_name: NameToken('Service name.') }),
          response: { 200: ServiceSchema, 404: WireErrorSchema },
        },
      },
      async (request) => {
        const service = registry.service(request.params.service_name);
        if (service === undefined) {
          throw new AegisError('SERVICE_NOT_FOUND', `service "${request.params.service_name}" is not registered`, {
            details: { service_name: request.params.service_name },
          });
        }
        return withHeartbeats(service);
      },
    );
  };
}
