/**
 * Routing diagnostics (RT-8): the decisions of recent calls by trace id, the distribution of
 * selections per instance, and the circuit breakers. A trace id is looked up on every router
 * replica (`TraceLookup.gather`); the recent list, the distribution and the breakers are this
 * replica's own.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AegisError, RouteTrace, TRACE_LOOKUP_MAX_ROUTES, TraceId, Type } from '@aegis-ipc/protocol';
import type { RouteService } from '../routing/route-service.js';
import type { TraceLookup } from '../routing/trace-lookup.js';
import { WireErrorSchema } from './schemas.js';

/** A route as the admin API shows it: the wire shape plus the replica that routed it. */
const ReplicaRoute = Type.Intersect([RouteTrace, Type.Object({ router_id: Type.String({ description: 'The router replica that routed this call (its ring buffer holds it).' }) })]);

const GatheredTraceSchema = Type.Object({
  trace_id: Type.String(),
  routes: Type.Array(ReplicaRoute, { description: 'Every replica\'s routes of the trace id, oldest first by received_at.' }),
  routers: Type.Array(Type.String(), { description: 'Replicas whose buffers were searched: the one answering first, then those that replied within 500 ms.' }),
  truncated: Type.Boolean({ description: `True when a replica held more than ${TRACE_LOOKUP_MAX_ROUTES} routes of the id (only its newest ${TRACE_LOOKUP_MAX_ROUTES} are shown).` }),
  gather_error: Type.Union([Type.String(), Type.Null()], { description: 'Why the other replicas could not be asked (NATS unreachable); then routes are this replica\'s only.' }),
});

const Breaker = Type.Object({
  service_name: Type.String(),
  state: Type.String({ description: 'closed | open | half_open' }),
  opened_at: Type.Union([Type.String(), Type.Null()]),
  retry_after_ms: Type.Number(),
  failed_instances: Type.Array(Type.String()),
  times_opened: Type.Integer(),
});

export function routingRoutes(routing: RouteService, lookup: TraceLookup): FastifyPluginAsync {
  return async (app) => {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    api.get(
      '/traces/:trace_id',
      {
        schema: {
          tags: ['routing'],
          summary: 'Routing decisions of a recent call on every router replica: instances considered, chosen, each attempt',
          description: `Gathers the routes of the trace id from this replica's memory and from every other replica over NATS (at most ${TRACE_LOOKUP_MAX_ROUTES} newest per replica; replicas that do not answer within 500 ms are left out). 404 when no replica holds it.`,
          params: Type.Object({ trace_id: TraceId }),
          response: { 200: GatheredTraceSchema, 404: WireErrorSchema },
        },
      },
      async (request) => {
        const traceId = request.params.trace_id;
        const trace = await lookup.gather(traceId);
        if (trace.routes.length === 0) {
          throw new AegisError(
            'NOT_FOUND',
            trace.gather_error === null
              ? `no recent routed call with trace id ${traceId} on any of the ${trace.routers.length} router replica(s) that answered (it may have aged out of every replica's buffer)`
              : `no recent routed call with trace id ${traceId} on this router, and ${trace.gather_error}`,
            { details: { trace_id: traceId, routers: trace.routers, gather_error: trace.gather_error } },
          );
        }
        return { trace_id: traceId, ...trace };
      },
    );
    api.get(
      '/traces',
      {
        schema: {
          tags: ['routing'],
          summary: 'Most recent calls this router replica routed, newest first',
          description: 'Per replica: each replica lists the calls it routed itself (each route names it in router_id). Look a trace id up with /traces/{trace_id} to see every replica\'s routes.',
          querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000, default: 50 })) }),
          response: { 200: Type.Object({ router_id: Type.String(), routes: Type.Array(ReplicaRoute) }) },
        },
      },
      async (request) => ({ router_id: lookup.routerId, routes: routing.traces.recent(request.query.limit ?? 50).map((route) => ({ ...route, router_id: lookup.routerId })) }),
    );
    api.get(
      '/routing/distribution',
      {
        schema: {
          tags: ['routing'],
          summary: 'Instances chosen per service since this router started (a retired instance leaves it)',
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
