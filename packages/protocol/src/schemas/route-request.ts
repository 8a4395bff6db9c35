/**
 * A routed call on `ipc.route.request` (RT-1). The router forwards these bytes unchanged to the
 * chosen instance's `ipc.instance.{instance_id}.inbox`, so the instance reads the same map.
 */
import { Type, compileSchema, type Static } from '../schema.js';
import { JsonObject, MessageId, NameToken, TraceId } from './common.js';

/** Longest accepted `timeout` of a routed call, in seconds (one hour). */
export const MAX_ROUTE_TIMEOUT_S = 3_600;

export const RouteRequest = Type.Object(
  {
    service_name: NameToken('Target service.'),
    method: NameToken('Method of the service.'),
    params: Type.Optional(JsonObject('Method parameters (a map).')),
    timeout: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MAX_ROUTE_TIMEOUT_S, description: 'Caller timeout in seconds; the router keeps within it.' })),
    trace_id: Type.Optional(TraceId),
    resource_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Resource the call is about (affinity strategies).' })),
    message_id: Type.Optional(MessageId),
  },
  { additionalProperties: false },
);
export type RouteRequest = Static<typeof RouteRequest>;
export const routeRequest = compileSchema(RouteRequest);

/** A successful reply from an instance: the handler's return value under `result`. */
export interface RouteReply<T = unknown> {
  readonly result?: T;
}
