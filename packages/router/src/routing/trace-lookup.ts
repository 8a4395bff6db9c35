/**
 * Trace lookup across router replicas (RT-8, ADR 0030 "Traces across replicas"). Each replica keeps
 * the routing decisions of the calls *it* routed; replicas share calls through a queue group, so
 * one call chain's hops are spread over them. Every replica answers `ipc.router.traces` (no queue
 * group) with what its ring holds for a trace id, and `gather` asks them all with one request and
 * several replies, so the admin API of any replica shows the whole trace.
 *
 * Nothing here runs per routed call: the ring is read only when someone looks a trace up.
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import {
  SUBJECTS,
  TRACE_LOOKUP_MAX_ROUTES,
  decode,
  encode,
  errorReply,
  isErrorReply,
  traceLookupReply,
  traceLookupRequest,
  type RouteTrace,
  type TraceLookupReply,
} from '@aegis-ipc/protocol';
import { guardedCallback } from '@aegis-ipc/sdk';
import type { TraceBuffer } from './trace-buffer.js';

/** A gather never takes longer than this, whoever is slow or down. */
export const TRACE_GATHER_MAX_WAIT_MS = 500;
/** The gather ends once no reply came for this long (replicas answer in parallel, within a few ms). */
export const TRACE_GATHER_STALL_MS = 100;
/** A lookup request is one short trace id: anything much larger is not one. */
const MAX_REQUEST_BYTES = 1_024;
/** Room the server's `max_payload` keeps for headers (protocol conventions). */
const HEADER_ROOM_BYTES = 4_096;

/** A route with the replica that routed it. */
export type ReplicaRouteTrace = RouteTrace & { readonly router_id: string };

/** What one trace id looks like across the replicas that answered. */
export interface GatheredTrace {
  /** Every replica's routes, oldest first by `received_at`. */
  readonly routes: ReplicaRouteTrace[];
  /** The replicas whose buffers were searched: this one first, then those that answered in time. */
  readonly routers: string[];
  /** True when some replica had more than {@link TRACE_LOOKUP_MAX_ROUTES} routes for the id. */
  readonly truncated: boolean;
  /** Why the other replicas could not be asked (then `routes` are this replica's only); `null` when they were. */
  readonly gather_error: string | null;
}

export class TraceLookup {
  readonly #nc: NatsConnection;
  readonly #traces: TraceBuffer;
  readonly #log: Logger;
  /** This replica's id, on each of its answers and routes. */
  readonly routerId: string;
  #sub: Subscription | undefined;

  constructor(nc: NatsConnection, traces: TraceBuffer, routerId: string, logger: Logger) {
    this.#nc = nc;
    this.#traces = traces;
    this.routerId = routerId;
    this.#log = logger;
  }

  /** Answers lookups from every replica's admin API, this one's included. */
  start(): void {
    this.#sub = this.#nc.subscribe(SUBJECTS.traceLookup, {
      callback: guardedCallback(
        (err, msg) => {
          if (err === null && msg.reply) this.#answer(msg);
        },
        (err) => this.#log.error({ err }, 'a subscription callback threw; that message was dropped'),
      ),
    });
  }

  close(): void {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
  }

  /** This replica's routes of `traceId`, bounded, tagged; what it answers on the control subject. */
  local(traceId: string, limit = TRACE_LOOKUP_MAX_ROUTES): TraceLookupReply {
    const { routes, truncated } = this.#traces.find(traceId, limit);
    return { router_id: this.routerId, routes, truncated };
  }

  /**
   * This replica's routes of `traceId` from memory plus every other replica's, asked with one
   * request on `ipc.router.traces`. Ends {@link TRACE_GATHER_STALL_MS} after the last reply and
   * never later than {@link TRACE_GATHER_MAX_WAIT_MS}; a replica that is down or slower is missing
   * from `routers`. Never throws: when NATS cannot carry the request, the local routes come back
   * with `gather_error`.
   */
  async gather(traceId: string): Promise<GatheredTrace> {
    const own = this.local(traceId);
    const replies: TraceLookupReply[] = [];
    let heardSelf = false;
    let failure: string | undefined;
    // The stall strategy re-arms its timer on each reply, so a stream of replies could outlast
    // maxWait: this race is the hard bound.
    let deadline: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => (deadline = setTimeout(() => resolve('expired'), TRACE_GATHER_MAX_WAIT_MS)));
    let replies$: AsyncIterator<Msg> | undefined;
    try {
      replies$ = (
        await this.#nc.requestMany(SUBJECTS.traceLookup, encode({ trace_id: traceId }), { strategy: 'stall', stall: TRACE_GATHER_STALL_MS, maxWait: TRACE_GATHER_MAX_WAIT_MS })
      )[Symbol.asyncIterator]();
      for (;;) {
        const next = await Promise.race([replies$.next(), expired]);
        if (next === 'expired' || next.done === true) break;
        const reply = this.#read(next.value);
        if (reply === undefined) continue;
        // Our own routes come from memory above: the subscription's copy only proves the round trip.
        if (reply.router_id === this.routerId) heardSelf = true;
        else replies.push(reply);
      }
      // Another replica's answer proves the lookup went out; only silence from everyone, our own
      // copy included, means the others may not have been asked. (Our own copy can come late on a
      // busy replica, after the stall window that another replica's answer opened.)
      if (!heardSelf && replies.length === 0) failure = `no replica answered, not even this one, within ${TRACE_GATHER_MAX_WAIT_MS} ms (NATS disconnected?)`;
    } catch (err) {
      failure = (err as Error).message;
    } finally {
      clearTimeout(deadline);
      // Not awaited: after the deadline the pending read ends with the request's own stall timer.
      replies$?.return?.().catch(() => undefined);
    }
    if (failure !== undefined) {
      this.#log.warn({ event: 'trace_gather_failed', trace_id: traceId, err: failure }, `trace ${traceId}: the other router replicas could not be asked: ${failure}`);
    }
    return merge(own, replies, failure === undefined ? null : `the other router replicas could not be asked: ${failure}`);
  }

  /** A valid answer from another replica; anything else is logged and left out. */
  #read(msg: Msg): TraceLookupReply | undefined {
    let body: unknown;
    try {
      body = decode(msg.data);
    } catch (err) {
      body = { decode_error: (err as Error).message };
    }
    if (traceLookupReply.check(body)) return body;
    const problem = isErrorReply(body) ? `${body.error.code}: ${body.error.message}` : traceLookupReply.errors(body)[0]?.message ?? 'unreadable';
    this.#log.warn({ event: 'trace_lookup_reply_ignored', err: problem }, `a trace lookup reply was ignored: ${problem}`);
    return undefined;
  }

  #answer(msg: Msg): void {
    let body: Uint8Array;
    try {
      const request = traceLookupRequest.parse(decode(msg.data, { maxBytes: MAX_REQUEST_BYTES }), 'trace lookup request');
      body = this.#fit(this.local(request.trace_id));
    } catch (err) {
      body = encode(errorReply(err));
    }
    try {
      msg.respond(body);
    } catch (err) {
      this.#log.warn({ err }, 'trace lookup reply failed');
    }
  }

  /**
   * The encoded answer, dropping the oldest routes until it fits the server's `max_payload`: an
   * oversized publish would make the server close this replica's connection. Only a service with
   * thousands of instances (each route lists those considered) comes near it.
   */
  #fit(answer: TraceLookupReply): Uint8Array {
    const limit = (this.#nc.info?.max_payload ?? 1024 * 1024) - HEADER_ROOM_BYTES;
    let routes = answer.routes;
    let body = encode(answer);
    while (body.length > limit && routes.length > 0) {
      routes = routes.slice(Math.ceil(routes.length / 2));
      body = encode({ ...answer, routes, truncated: true });
    }
    return body;
  }
}

/** All routes tagged with their replica, oldest first; the order of replicas breaks ties. */
function merge(own: TraceLookupReply, others: readonly TraceLookupReply[], gatherError: string | null): GatheredTrace {
  const all = [own, ...others];
  const routes = all
    .flatMap((reply) => reply.routes.map((route) => ({ ...route, router_id: reply.router_id })))
    .map((route, order) => ({ route, order, at: timeOf(route.received_at) }))
    .sort((a, b) => a.at - b.at || a.order - b.order)
    .map(({ route }) => route);
  return { routes, routers: all.map((r) => r.router_id), truncated: all.some((r) => r.truncated), gather_error: gatherError };
}

/** ms since epoch; an unreadable time from another version sorts first instead of breaking the sort. */
function timeOf(iso: string): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}
