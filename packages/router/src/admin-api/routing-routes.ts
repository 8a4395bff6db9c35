/**
 * Routing diagnostics (RT-8): the decisions of recent calls by trace id, the distribution of
 * selections per instance, and the circuit breakers.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AegisError, TraceId, Type } from '@aegis-ipc/protocol';
import type { RouteService } from '../routing/route-service.js';
import { WireErrorSchema } from './schemas.js';

const Attempt = Type.Object({
  attempt: Type.Integer(),
  instance_id: Type.String(),
  outcome: Type.String({ description: 'answered | error_reply | timeout | no_responders' }),
  error_type: Type.Optional(Type.String()),
  duration_ms: Type.Number(),
  timeout_ms: Type.Number(),
});

const RouteTrace = Type.Object({
  trace_id: Type.String(),
  service_name: Type.String(),
  method: Type.String(),
  received_at: Type.String(),
  strategy: Type.String(),
  hops: Type.Integer(),
  path: Type.Array(Type.String()),
  instances_considered: Type.Array(Type.String()),
  attempts: Type.Array(Attempt),
  outcome: Type.String({ description: 'success | error_reply | fallback | failed' }),
  instance_id: Type.Union([Type.String(), Type.Null()]),
  error_code: Type.Union([Type.String(), Type.Null()]),
  duration_ms: Type.Number(),
});

const Breaker = Type.Object({
  service_name: Type.String(),
  state: Type.String({ description: 'closed | open | half_open' }),
  opened_at: Type.Union([Type.String(), Type.Null()]),
  retry_after_ms: Type.Number(),
  failed_instances: Type.Array(Type.String()),
  times_opened: Type.Integer(),
});

export function routingRoutes(routing: RouteService): FastifyPluginAsync {
  return async (app) => {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    api.get(
      '/traces/:trace_id',
      {
        schema: {
          tags: ['routing'],
          summary: 'Routing decisions of a recent call: instances considered, chosen, each attempt',
          params: Type.Object({ trace_id: TraceId }),
          response: { 200: Type.Object({ trace_id: Type.String(), routes: Type.Array(RouteTrace) }), 404: WireErrorSchema },
        },
      },
      async (request) => {
        const routes = routing.traces.get(request.params.trace_id);
        if (routes.length === 0) {
          throw new AegisError('NOT_FOUND', `no recent routed call with trace id ${request.params.trace_id} on this router (it may have aged out, or another replica routed it)`);
        }
        return { trace_id: request.params.trace_id, routes };
      },
    );
    api.get(
      '/traces',
      {
        schema: {
          tags: ['routing'],
          summary: 'Most recent routed calls, newest first',
          querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000, default: 50 })) }),
          response: { 200: Type.Object({ routes: Type.Array(RouteTrace) }) },
        },
      },
      async (request) => ({ routes: routing.traces.recent(request.query.limit ?? 50) }),
    );
    api.get(
      '/routing/distribution',
      {
        schema: {
          tags: ['routing'],
          summary: 'Instances chosen per service since this router started',
          response: {
            200: Type.Object({
              strategy: Type.String(),
              services: Type.Record(Type.String(), Type.Record(Type.String(), Type.Integer())),
              quarantined: Type.Array(Type.Object({ instance_id: Type.String(), until: Type.String() })),
            }),
          },
        },
      },
      async () => ({ strategy: routing.strategy, services: routing.distribution(), quarantined: routing.quarantined() }),
    );
    api.get(
      '/breakers',
      { schema: { tags: ['routing'], summary: 'Circuit breaker of every service that had a failure', response: { 200: Type.Object({ breakers: Type.Array(Breaker) }) } } },
      async () => ({ breakers: routing.breakers() }),
    );
  };
}
