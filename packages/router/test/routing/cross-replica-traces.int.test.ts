/**
 * Trace lookup across router replicas (RT-8, ADR 0030 "Traces across replicas"), on the real NATS
 * with two routers of one namespace: a trace id is found from either replica's admin API whichever
 * replica routed it, each route names that replica, a nested chain shows all its hops, lookups end
 * within their bound when a replica is slow or gone, and a malformed lookup gets a typed error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { SUBJECTS, decode, encode, type WireError } from '@aegis-ipc/protocol';
import type { AegisClient, ServiceInstance } from '@aegis-ipc/sdk';
import { uniqueName, waitFor } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { TRACE_GATHER_MAX_WAIT_MS } from '../../src/routing/trace-lookup.js';
import { routerHarness } from '../router-harness.js';

interface Route {
  trace_id: string;
  service_name: string;
  received_at: string;
  hops: number;
  path: string[];
  instance_id: string | null;
  router_id: string;
}
interface Gathered {
  trace_id: string;
  routes: Route[];
  routers: string[];
  truncated: boolean;
  gather_error: string | null;
}

/** Time an HTTP lookup may take beyond the gather's bound (fastify, fetch, a busy machine). */
const HTTP_SLACK_MS = 400;
const harness = routerHarness();
let a: Router;
let b: Router;
let nc: NatsConnection;
let client: AegisClient;
let service: string;
let instance: ServiceInstance;

const traceId = () => uniqueName('trace').replaceAll('.', '_');

async function lookup(router: Router, id: string): Promise<{ status: number; body: Gathered & { code?: string; message?: string }; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${router.url}/api/v1/admin/traces/${id}`);
  const body = (await res.json()) as Gathered & { code?: string; message?: string };
  return { status: res.status, body, ms: performance.now() - started };
}

/** The replica whose own ring holds `id` (both, or neither, would be a bug the caller sees). */
function routedBy(id: string): Router[] {
  return [a, b].filter((r) => r.routing.traces.get(id).length > 0);
}

describe('trace lookup across replicas (RT-8)', () => {
  // Stopped before the next describe: a replica of this namespace left running would take part of
  // its calls without knowing its instances (another registry bucket).
  beforeAll(async () => {
    a = await harness.start();
    b = await harness.start();
    ({ nc, client } = await harness.connect());
    service = uniqueName('svc');
    instance = await client.register(service, `${service}-0`);
    instance.handle('echo', (params) => params);
    await waitFor(() => a.registry.online(service).length === 1 && b.registry.online(service).length === 1, { what: 'the instance online on both replicas' });
  });
  afterAll(() => harness.cleanup());

  it('names each replica in /health and in its recent list', async () => {
    expect(a.id).not.toBe(b.id);
    for (const router of [a, b]) {
      const health = (await (await fetch(`${router.url}/health`)).json()) as { router_id: string };
      expect(health.router_id).toBe(router.id);
    }
    const id = traceId();
    await client.call(service, 'echo', {}, { traceId: id });
    const [owner] = routedBy(id);
    const recent = (await (await fetch(`${owner!.url}/api/v1/admin/traces?limit=1`)).json()) as { router_id: string; routes: Route[] };
    expect(recent.router_id).toBe(owner!.id);
    expect(recent.routes[0]).toMatchObject({ trace_id: id, router_id: owner!.id });
  });

  it('finds every call from either replica, tagged with the replica that routed it', async () => {
    // The queue group picks a replica at random: call until both have routed some (bounded).
    const ids: string[] = [];
    for (let n = 0; n < 200 && !(ids.some((id) => routedBy(id)[0] === a) && ids.some((id) => routedBy(id)[0] === b)); n++) {
      const id = traceId();
      await client.call(service, 'echo', { n }, { traceId: id });
      ids.push(id);
    }
    expect(ids.filter((id) => routedBy(id)[0] === a).length, 'calls routed by replica a').toBeGreaterThan(0);
    expect(ids.filter((id) => routedBy(id)[0] === b).length, 'calls routed by replica b').toBeGreaterThan(0);
    for (const id of ids) {
      const owners = routedBy(id);
      expect(owners).toHaveLength(1);
      for (const asked of [a, b]) {
        const { status, body } = await lookup(asked, id);
        expect(status, `${id} looked up on ${asked === a ? 'a' : 'b'}, routed by ${owners[0] === a ? 'a' : 'b'}`).toBe(200);
        expect(body.routes).toHaveLength(1);
        expect(body.routes[0]).toMatchObject({ trace_id: id, service_name: service, instance_id: `${service}-0`, router_id: owners[0]!.id });
        expect(body.routers).toEqual([asked.id, (asked === a ? b : a).id]);
        expect(body.gather_error).toBeNull();
        expect(body.truncated).toBe(false);
      }
    }
  });

  it('answers 404 for an unknown id within the bound, saying it may have aged out everywhere', async () => {
    const { status, body, ms } = await lookup(a, traceId());
    expect(status).toBe(404);
    expect(body.code).toBe('NOT_FOUND');
    expect(body.message).toMatch(/on any of the 2 router replica\(s\) that answered \(it may have aged out of every replica's buffer\)/);
    expect(ms).toBeLessThan(TRACE_GATHER_MAX_WAIT_MS + HTTP_SLACK_MS);
  });

  it('ends the gather at its bound when a replica answers late or keeps answering', async () => {
    const id = traceId();
    await client.call(service, 'echo', {}, { traceId: id });
    const owner = routedBy(id)[0]!;
    // A late replica (answers after 2 s) and a chatty one (a valid answer every 50 ms, which would
    // keep re-arming the stall timer): neither holds the lookup past its bound.
    const timers: NodeJS.Timeout[] = [];
    const late = nc.subscribe(SUBJECTS.traceLookup, {
      callback: (_e, msg) => {
        timers.push(setTimeout(() => msg.respond(encode({ router_id: 'late', routes: [], truncated: false })), 2_000));
      },
    });
    const chatty = nc.subscribe(SUBJECTS.traceLookup, {
      callback: (_e, msg) => {
        for (let k = 1; k <= 40; k++) timers.push(setTimeout(() => msg.respond(encode({ router_id: `chatty-${k}`, routes: [], truncated: false })), k * 50));
      },
    });
    await nc.flush();
    try {
      const { status, body, ms } = await lookup(owner, id);
      expect(status).toBe(200);
      expect(body.routes.map((r) => r.router_id)).toEqual([owner.id]);
      expect(body.routers).not.toContain('late');
      expect(body.routers.length).toBeLessThan(2 + 40);
      expect(ms).toBeLessThan(TRACE_GATHER_MAX_WAIT_MS + HTTP_SLACK_MS);
    } finally {
      for (const t of timers) clearTimeout(t);
      late.unsubscribe();
      chatty.unsubscribe();
    }
  });

  it('answers a malformed lookup with a typed error from every replica, which keep routing', async () => {
    const malformed: Array<[Uint8Array, string]> = [
      [encode({ trace_id: 'has spaces' }), 'VALIDATION_FAILED'],
      [encode({}), 'VALIDATION_FAILED'],
      [encode({ trace_id: 'ok', extra: 1 }), 'VALIDATION_FAILED'],
      [encode({ trace_id: 'x'.repeat(65) }), 'VALIDATION_FAILED'],
      [encode('just a string'), 'VALIDATION_FAILED'],
      [new Uint8Array([0xc1]), 'DECODE_FAILED'],
      [new Uint8Array([0x90, 0x90]), 'DECODE_FAILED'],
      [new Uint8Array(4_096).fill(0x90), 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [data, code] of malformed) {
      const codes: string[] = [];
      for await (const msg of await nc.requestMany(SUBJECTS.traceLookup, data, { strategy: 'count', maxMessages: 2, maxWait: 2_000 })) {
        codes.push((decode(msg.data) as { error: WireError }).error.code);
      }
      expect(codes, String(data.slice(0, 16))).toEqual([code, code]);
    }
    // Both replicas still route, and still answer lookups.
    const ids: string[] = [];
    for (let n = 0; n < 20; n++) {
      const id = traceId();
      expect(await client.call(service, 'echo', { n }, { traceId: id })).toEqual({ n });
      ids.push(id);
    }
    expect(ids.every((id) => routedBy(id).length === 1)).toBe(true);
    expect((await lookup(b, ids[0]!)).status).toBe(200);
  });

  it('still answers within the bound with its own routes when the other replica is stopped', async () => {
    const ids: string[] = [];
    for (let n = 0; n < 200 && !(ids.some((id) => routedBy(id)[0] === a) && ids.some((id) => routedBy(id)[0] === b)); n++) {
      const id = traceId();
      await client.call(service, 'echo', {}, { traceId: id });
      ids.push(id);
    }
    const byA = ids.find((id) => routedBy(id)[0] === a)!;
    const byB = ids.find((id) => routedBy(id)[0] === b)!;
    await b.close();
    const found = await lookup(a, byA);
    expect(found.status).toBe(200);
    expect(found.body.routes.map((r) => r.router_id)).toEqual([a.id]);
    expect(found.body.routers).toEqual([a.id]);
    expect(found.body.gather_error).toBeNull();
    expect(found.ms).toBeLessThan(TRACE_GATHER_MAX_WAIT_MS + HTTP_SLACK_MS);
    // What only the stopped replica held is gone with it.
    const gone = await lookup(a, byB);
    expect(gone.status).toBe(404);
    expect(gone.ms).toBeLessThan(TRACE_GATHER_MAX_WAIT_MS + HTTP_SLACK_MS);
  });
});

describe('a nested call chain over two replicas', () => {
  // Long timeouts: replica q starts while the outer call waits for its instance.
  const chain = routerHarness({ routeAttemptTimeoutMs: 10_000, routeTotalTimeoutMs: 10_000 });
  afterAll(() => chain.cleanup());

  it('shows every hop from either replica, each with the replica that routed it', async () => {
    // Deterministic: replica p alone routes the outer call; inside its handler, q starts and p
    // stops taking calls (its subscription gone on the server), so q alone routes the nested one.
    // p keeps its admin API and its trace ring, and still answers the outer call it holds.
    const p = await chain.start();
    let q: Router | undefined;
    let pClosing: Promise<void> | undefined;
    const { client: c } = await chain.connect();
    const front = uniqueName('front');
    const back = uniqueName('back');
    const frontInstance = await c.register(front, `${front}-0`);
    const backInstance = await c.register(back, `${back}-0`);
    backInstance.handle('leaf', (params) => ({ leaf: params }));
    frontInstance.handle('outer', async (params, ctx) => {
      q = await chain.start();
      await waitFor(() => q!.registry.online(back).length === 1, { what: 'the back instance online on replica q' });
      await q.nc.flush();
      pClosing = p.routing.close(10_000);
      await p.nc.flush();
      return { outer: await c.call(back, 'leaf', params, { parent: ctx }) };
    });
    await waitFor(() => p.registry.online(front).length === 1 && p.registry.online(back).length === 1, { what: 'both instances online on replica p' });

    const id = traceId();
    expect(await c.call(front, 'outer', { x: 1 }, { traceId: id, timeoutMs: 10_000 })).toEqual({ outer: { leaf: { x: 1 } } });
    await pClosing;
    expect(p.routing.traces.get(id).map((r) => r.service_name)).toEqual([front]);
    expect(q!.routing.traces.get(id).map((r) => r.service_name)).toEqual([back]);

    for (const asked of [p, q!]) {
      const { status, body } = await lookup(asked, id);
      expect(status).toBe(200);
      expect(body.routes.map((r) => [r.service_name, r.hops, r.router_id])).toEqual([
        [front, 0, p.id],
        [back, 1, q!.id],
      ]);
      expect(body.routes[1]?.path).toEqual([`${front}:${front}-0`]);
      expect(Date.parse(body.routes[0]!.received_at)).toBeLessThanOrEqual(Date.parse(body.routes[1]!.received_at));
    }
    await frontInstance.close();
    await backInstance.close();
  });
});

describe('a lookup when NATS cannot carry the gather', () => {
  const alone = routerHarness();
  afterAll(() => alone.cleanup());

  it('returns the local routes with gather_error, and 404 says the others could not be asked', async () => {
    const { nc: routerNc } = await alone.connect();
    const r = await alone.start({ nc: routerNc });
    const { client: c } = await alone.connect();
    const svc = uniqueName('svc');
    const inst = await c.register(svc, `${svc}-0`);
    inst.handle('echo', (params) => params);
    await waitFor(() => r.registry.online(svc).length === 1, { what: 'the instance online' });
    const id = traceId();
    await c.call(svc, 'echo', {}, { traceId: id });
    await inst.close();

    await routerNc.close(); // the router's own connection: its admin API still answers
    const found = await lookup(r, id);
    expect(found.status).toBe(200);
    expect(found.body.routes.map((x) => [x.trace_id, x.router_id])).toEqual([[id, r.id]]);
    expect(found.body.routers).toEqual([r.id]);
    expect(found.body.gather_error).toMatch(/^the other router replicas could not be asked: /);
    const missing = await lookup(r, traceId());
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/on this router, and the other router replicas could not be asked: /);
  });
});
