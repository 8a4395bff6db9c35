/**
 * Trace lookup across router replicas (RT-8, ADR 0030 "Traces across replicas"): a request on
 * `ipc.router.traces` is answered by every router replica (no queue group) with the routing
 * decisions it holds in its own ring buffer for one trace id — possibly none — and its replica id.
 * The admin API of any replica gathers these answers, so `aegis trace` finds a call whichever
 * replica routed it.
 */
import { Type, compileSchema, type Static } from '../schema.js';
import { TraceId } from './common.js';

/** At most this many routes per replica in one answer: the newest ones of the trace id. */
export const TRACE_LOOKUP_MAX_ROUTES = 100;

/** The request: one trace id. Unknown fields are refused like every request's. */
export const TraceLookupRequest = Type.Object({ trace_id: TraceId }, { additionalProperties: false });
export type TraceLookupRequest = Static<typeof TraceLookupRequest>;
export const traceLookupRequest = compileSchema(TraceLookupRequest);

/** One attempt of a routed call: which instance, how it ended, how long it took. */
export const RouteAttemptTrace = Type.Object({
  attempt: Type.Integer(),
  instance_id: Type.String(),
  outcome: Type.String({ description: 'answered | error_reply | timeout | no_responders' }),
  error_type: Type.Optional(Type.String()),
  duration_ms: Type.Number(),
  timeout_ms: Type.Number(),
});

/** The routing decisions of one routed call (one hop of a trace), as a replica recorded them. */
export const RouteTrace = Type.Object({
  trace_id: Type.String(),
  service_name: Type.String(),
  method: Type.String(),
  received_at: Type.String({ description: 'ISO-8601 time the router received the call.' }),
  strategy: Type.String(),
  hops: Type.Integer({ description: 'Routed hops before this one.' }),
  path: Type.Array(Type.String(), { description: '`service:instance` of those hops.' }),
  instances_considered: Type.Array(Type.String()),
  attempts: Type.Array(RouteAttemptTrace),
  outcome: Type.String({ description: 'success | error_reply | fallback | failed' }),
  instance_id: Type.Union([Type.String(), Type.Null()]),
  error_code: Type.Union([Type.String(), Type.Null()]),
  duration_ms: Type.Number(),
});
export type RouteTrace = Static<typeof RouteTrace>;

/**
 * A replica's answer. `routes` are oldest first, at most {@link TRACE_LOOKUP_MAX_ROUTES};
 * `truncated` says older ones were left out. Replies may gain fields (protocol conventions).
 */
export const TraceLookupReply = Type.Object({
  router_id: Type.String({ minLength: 1, maxLength: 256, description: 'The answering router replica.' }),
  routes: Type.Array(RouteTrace, { maxItems: TRACE_LOOKUP_MAX_ROUTES }),
  truncated: Type.Boolean(),
});
export type TraceLookupReply = Static<typeof TraceLookupReply>;
export const traceLookupReply = compileSchema(TraceLookupReply);
