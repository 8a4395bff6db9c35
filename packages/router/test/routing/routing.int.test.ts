/**
 * Routing behaviour against the real NATS with in-process instances (issue 3 items 1–5): round
 * robin, failover, typed errors, loop detection, instance health from timeouts, traces and metrics.
 * Short router timeouts keep the file fast.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { AegisError, HEADERS, SUBJECTS, decode, encode, instanceInboxSubject } from '@aegis-ipc/protocol';
import { type AegisClient, type ServiceInstance } from '@aegis-ipc/sdk';
import { uniqueName, waitFor } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';

const ATTEMPT_MS = 300;
const harness = routerHarness({ routeAttemptTimeoutMs: ATTEMPT_MS, routeTotalTimeoutMs: 1_000, heartbeatIntervalMs: 200, heartbeatTimeoutMs: 800 });
let router: Router;
let nc: NatsConnection;
let client: AegisClient;

beforeAll(async () => {
  router = await harness.start();
  ({ nc, client } = await harness.connect());
});

afterAll(() => harness.cleanup());

async function errorOf(promise: Promise<unknown>): Promise<AegisError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AegisError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Registers `n` instances of a new service; each answers `who` with its id. */
async function serviceWith(n: number, setup: (instance: ServiceInstance, index: number) => void = () => {}): Promise<{ service: string; instances: ServiceInstance[] }> {
  const service = uniqueName('svc');
  const instances: ServiceInstance[] = [];
  for (let k = 0; k < n; k++) {
    const instance = await client.register(service, `${service}-${k}`);
    instance.handle('who', (_p, ctx) => ctx.instanceId);
    setup(instance, k);
    instances.push(instance);
  }
  await waitFor(() => router.registry.online(service).length === n, { what: `${n} instances online` });
  return { service, instances };
}

async function closeAll(instances: ServiceInstance[]): Promise<void> {
  await Promise.all(instances.map((i) => i.close()));
}

describe('round robin (RT-2)', () => {
  it('lands 3,000 calls over 3 instances at 1,000 each (±1)', async () => {
    const { service, instances } = await serviceWith(3);
    const counts = new Map<string, number>();
    for (let batch = 0; batch < 30; batch++) {
      const ids = await Promise.all(Array.from({ length: 100 }, () => client.call<string>(service, 'who')));
      for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const values = [...counts.values()];
    expect(values).toHaveLength(3);
    for (const v of values) expect(Math.abs(v - 1_000)).toBeLessThanOrEqual(1);
    const distribution = router.routing.distribution()[service] ?? {};
    expect(Object.values(distribution).reduce((a, b) => a + b, 0)).toBe(3_000);
    await closeAll(instances);
  });

  it('skips an instance that stopped heartbeating', async () => {
    const { service, instances } = await serviceWith(2);
    // A third instance registered by hand: it serves its inbox but never heartbeats.
    const zombie = `${service}-zombie`;
    await nc.request(SUBJECTS.register, encode({ service_name: service, instance_id: zombie }), { timeout: 2_000 });
    const hits: string[] = [];
    const sub = nc.subscribe(instanceInboxSubject(zombie), { callback: (_e, msg) => { hits.push('zombie'); msg.respond(encode({ result: zombie })); } });
    await waitFor(() => router.registry.get(zombie)?.record.status === 'UNHEALTHY', { what: 'zombie UNHEALTHY' });
    const hitsBefore = hits.length;
    const ids = await Promise.all(Array.from({ length: 40 }, () => client.call<string>(service, 'who')));
    expect(ids.filter((id) => id === zombie)).toHaveLength(0);
    expect(hits.length).toBe(hitsBefore);
    expect(new Set(ids).size).toBe(2);
    sub.unsubscribe();
    await closeAll(instances);
  });
});

describe('failover (RT-4)', () => {
  it('fails over to another instance on timeout, never delivers the late reply, and counts the retry', async () => {
    const { service, instances } = await serviceWith(2, (instance, k) => {
      if (k === 0) instance.handle('who', async (_p, ctx) => { await sleep(ATTEMPT_MS * 2); return ctx.instanceId; });
    });
    const slow = instances[0]?.instanceId as string;
    const fast = instances[1]?.instanceId as string;
    const traceId = 'f'.repeat(32);
    const results = await Promise.all([
      client.call<string>(service, 'who', {}, { traceId }),
      ...Array.from({ length: 9 }, () => client.call<string>(service, 'who')),
    ]);
    expect(results.every((r) => r === fast)).toBe(true);
    await sleep(ATTEMPT_MS * 2);
    expect(router.routing.lateReplies).toBeGreaterThan(0);
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`ipc_router_retries_total\\{service_name="${service}"\\} [1-9]`));
    // the trace shows which instances were considered and each attempt
    const trace = (await (await fetch(`${router.url}/api/v1/admin/traces/${traceId}`)).json()) as { routes: Array<{ attempts: Array<{ instance_id: string; outcome: string }>; instances_considered: string[]; outcome: string }> };
    const route = trace.routes[0];
    expect(route?.instances_considered.sort()).toEqual([slow, fast].sort());
    expect(route?.outcome).toBe('success');
    expect(route?.attempts.at(-1)).toMatchObject({ instance_id: fast, outcome: 'answered' });
    await closeAll(instances);
  });

  it('fails over at once when an instance inbox has no responder', async () => {
    const { service, instances } = await serviceWith(2);
    const gone = `${service}-gone`;
    await nc.request(SUBJECTS.register, encode({ service_name: service, instance_id: gone }), { timeout: 2_000 });
    const started = performance.now();
    const ids = await Promise.all(Array.from({ length: 6 }, () => client.call<string>(service, 'who')));
    expect(ids.every((id) => id !== gone)).toBe(true);
    expect(performance.now() - started).toBeLessThan(ATTEMPT_MS);
    await closeAll(instances);
  });

  it('returns a handler error as APPLICATION_ERROR without trying another instance', async () => {
    let calls = 0;
    const { service, instances } = await serviceWith(3, (instance) => instance.handle('boom', () => { calls++; throw new RangeError('bad amount'); }));
    const err = await errorOf(client.call(service, 'boom'));
    expect(err.code).toBe('APPLICATION_ERROR');
    expect(err.message).toBe('bad amount');
    expect(err.details).toMatchObject({ error_name: 'RangeError', method: 'boom' });
    expect(calls).toBe(1);
    await closeAll(instances);
  });

  it('answers METHOD_NOT_FOUND for a method the service does not serve', async () => {
    const { service, instances } = await serviceWith(1);
    const err = await errorOf(client.call(service, 'nope', {}, { traceId: 'n'.repeat(32) }));
    expect(err.code).toBe('METHOD_NOT_FOUND');
    expect(err.status).toBe(404);
    expect(err.details).toMatchObject({ method: 'nope', trace_id: 'n'.repeat(32) });
    await closeAll(instances);
  });

  it('answers 503 ROUTE_NO_INSTANCE at once when no instance is healthy', async () => {
    const started = performance.now();
    const err = await errorOf(client.call(uniqueName('missing'), 'x', {}, { traceId: 'b'.repeat(32) }));
    expect(err.code).toBe('ROUTE_NO_INSTANCE');
    expect(err.status).toBe(503);
    expect(err.details).toMatchObject({ trace_id: 'b'.repeat(32) });
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('lists every attempt when all instances fail', async () => {
    const { service, instances } = await serviceWith(2, (instance) => instance.handle('hang', () => new Promise(() => {})));
    const err = await errorOf(client.call(service, 'hang'));
    expect(err.code).toBe('ROUTE_ALL_FAILED');
    const attempts = (err as AegisError<'ROUTE_ALL_FAILED'>).details?.attempts ?? [];
    expect(attempts.map((a) => a.instance_id).sort()).toEqual(instances.map((i) => i.instanceId).sort());
    for (const a of attempts) {
      expect(a.error_type).toBe('ROUTE_INSTANCE_TIMEOUT');
      expect(a.duration_ms).toBeGreaterThanOrEqual(ATTEMPT_MS - 5);
    }
    await closeAll(instances);
  });

  it('marks an instance UNHEALTHY after 3 timeouts and keeps it out of rotation', async () => {
    const { service, instances } = await serviceWith(2, (instance, k) => {
      if (k === 0) instance.handle('who', () => new Promise(() => {}));
    });
    const hung = instances[0]?.instanceId as string;
    const healthy = instances[1]?.instanceId as string;
    // Sequential calls alternate: every other one times out on the hung instance, then fails over.
    for (let k = 0; k < 6; k++) expect(await client.call<string>(service, 'who')).toBe(healthy);
    await waitFor(() => router.registry.history(service).some((h) => h.instance_id === hung && h.to === 'UNHEALTHY' && h.reason.includes('3 timeouts')), { what: 'UNHEALTHY after 3 timeouts' });
    expect(router.routing.quarantined().map((q) => q.instance_id)).toContain(hung);
    // its heartbeats bring it back ONLINE in the registry, but this router keeps it quarantined
    const started = performance.now();
    for (let k = 0; k < 4; k++) expect(await client.call<string>(service, 'who')).toBe(healthy);
    expect(performance.now() - started).toBeLessThan(ATTEMPT_MS);
    await closeAll(instances);
  });
});

describe('loop detection (RT-4)', () => {
  it('refuses a call chain after 3 hops with 508 and the path', async () => {
    const service = uniqueName('loop');
    const instance = await client.register(service, `${service}-0`);
    instance.handle('again', (_p, ctx) => client.call(service, 'again', {}, { parent: ctx }));
    await waitFor(() => router.registry.online(service).length === 1);
    const err = await errorOf(client.call(service, 'again'));
    expect(err.code).toBe('ROUTE_LOOP_DETECTED');
    expect(err.status).toBe(508);
    const details = (err as AegisError<'ROUTE_LOOP_DETECTED'>).details;
    expect(details?.hops).toBe(3);
    expect(details?.path).toEqual([`${service}:${service}-0`, `${service}:${service}-0`, `${service}:${service}-0`, service]);
    await instance.close();
  });
});

describe('bad input', () => {
  it('rejects invalid names and oversized params before sending', async () => {
    expect((await errorOf(client.call('bad.name', 'x'))).code).toBe('INVALID_NAME');
    expect((await errorOf(client.call('svc', 'x>'))).code).toBe('INVALID_NAME');
    expect((await errorOf(client.call('svc', 'x', { blob: 'x'.repeat(2 * 1024 * 1024) }))).code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers hostile or invalid raw requests with typed errors and keeps serving', async () => {
    const { service, instances } = await serviceWith(1);
    const raw = async (data: Uint8Array, h?: ReturnType<typeof natsHeaders>) => decode((await nc.request(SUBJECTS.routeRequest, data, { timeout: 2_000, headers: h })).data) as { error?: { code: string; details?: { fields?: unknown[] } }; result?: unknown };
    expect((await raw(new Uint8Array([0xc1, 0xff, 0x00]))).error?.code).toBe('DECODE_FAILED');
    expect((await raw(new Uint8Array([0xdf, 0xff, 0xff, 0xff, 0xff]))).error?.code).toBe('DECODE_FAILED');
    expect((await raw(encode({ service_name: service, method: 'who', __proto__x: 1 }))).error?.code).toBe('VALIDATION_FAILED');
    const invalid = await raw(encode({ service_name: 'a.b', method: 42 }));
    expect(invalid.error?.code).toBe('VALIDATION_FAILED');
    expect(invalid.error?.details?.fields?.length).toBeGreaterThanOrEqual(2);
    const h = natsHeaders();
    h.set(HEADERS.hops, 'many');
    expect((await raw(encode({ service_name: service, method: 'who' }), h)).error?.code).toBe('VALIDATION_FAILED');
    expect((await raw(encode({ service_name: service, method: 'who', params: [1, 2] }))).error?.code).toBe('VALIDATION_FAILED');
    expect((await raw(encode({ service_name: service, method: 'who', timeout: -1 }))).error?.code).toBe('VALIDATION_FAILED');
    // a body-only request, as another language would send it, is routed
    expect((await raw(encode({ service_name: service, method: 'who', params: {}, timeout: 2, trace_id: 'c'.repeat(32) }))).result).toBe(instances[0]?.instanceId);
    // and the SDK still works
    expect(await client.call(service, 'who')).toBe(instances[0]?.instanceId);
    await closeAll(instances);
  });

  it('every refusal carries details.trace_id (RT-4): the request\'s when it can be read, else a fresh one', async () => {
    const { service, instances } = await serviceWith(1);
    const refusal = async (data: Uint8Array, headerTraceId?: string, hops?: string) => {
      const h = natsHeaders();
      if (headerTraceId !== undefined) h.set(HEADERS.traceId, headerTraceId);
      if (hops !== undefined) h.set(HEADERS.hops, hops);
      const reply = decode((await nc.request(SUBJECTS.routeRequest, data, { timeout: 2_000, headers: h })).data) as { error?: { code: string; details?: { trace_id?: unknown } } };
      return { code: reply.error?.code, traceId: reply.error?.details?.trace_id };
    };
    const fromHeader = 'h'.repeat(32);
    const fromBody = 'b'.repeat(32);
    const fresh = /^[0-9a-f]{32}$/;
    // not MessagePack: only the header can name the call
    expect(await refusal(new Uint8Array([0xc1, 0xff, 0x00]), fromHeader)).toEqual({ code: 'DECODE_FAILED', traceId: fromHeader });
    const undecodable = await refusal(new Uint8Array([0xdf, 0xff, 0xff, 0xff, 0xff]));
    expect(undecodable.code).toBe('DECODE_FAILED');
    expect(undecodable.traceId).toMatch(fresh);
    // the body decodes but a field is invalid: the body's trace id (read by the schema path)…
    expect(await refusal(encode({ service_name: service, method: 'who', __proto__x: 1, trace_id: fromBody }))).toEqual({ code: 'VALIDATION_FAILED', traceId: fromBody });
    expect(await refusal(encode({ service_name: service, method: 'who', params: [1, 2], trace_id: fromBody }), fromHeader)).toEqual({ code: 'VALIDATION_FAILED', traceId: fromBody });
    // …else the header's, else a fresh one
    expect(await refusal(encode({ service_name: 'a.b', method: 42 }), fromHeader)).toEqual({ code: 'VALIDATION_FAILED', traceId: fromHeader });
    expect(await refusal(encode({ service_name: service, method: 'who', trace_id: 'not valid!' }), fromHeader)).toEqual({ code: 'VALIDATION_FAILED', traceId: fromHeader });
    const noId = await refusal(encode({ service_name: service, method: 'who', timeout: -1 }));
    expect(noId.code).toBe('VALIDATION_FAILED');
    expect(noId.traceId).toMatch(fresh);
    // a valid body the headers spoil (read by the scanner)
    expect(await refusal(encode({ service_name: service, method: 'who', trace_id: fromBody }), undefined, 'many')).toEqual({ code: 'VALIDATION_FAILED', traceId: fromBody });
    expect(await refusal(encode({ service_name: service, method: 'who' }), fromHeader, 'many')).toEqual({ code: 'VALIDATION_FAILED', traceId: fromHeader });
    const badHeader = await refusal(encode({ service_name: service, method: 'who' }), 'not valid!');
    expect(badHeader.code).toBe('VALIDATION_FAILED');
    expect(badHeader.traceId).toMatch(fresh);
    // fits the server's max_payload but leaves no room for the routing headers
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    const tooBig = encode({ service_name: service, method: 'who', params: { blob: 'x'.repeat(maxPayload - 1_500) }, trace_id: fromBody });
    expect(await refusal(tooBig)).toEqual({ code: 'PAYLOAD_TOO_LARGE', traceId: fromBody });
    await closeAll(instances);
  });
});

describe('observability (OBS-1, RT-8)', () => {
  it('exposes the routing metrics and recent traces', async () => {
    const { service, instances } = await serviceWith(1);
    await client.call(service, 'who', {}, { traceId: 'd'.repeat(32) });
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    for (const name of ['ipc_router_requests_total', 'ipc_router_request_duration_seconds', 'ipc_router_active_instances', 'ipc_router_unhealthy_instances', 'ipc_router_loadbalancer_selections_total', 'ipc_router_errors_total', 'ipc_router_retries_total', 'ipc_router_circuit_breaker_state', 'ipc_instance_state_transitions_total', 'ipc_healthcheck_failures_total']) {
      expect(metrics).toContain(name);
    }
    expect(metrics).toContain(`ipc_router_requests_total{service_name="${service}",instance_id="${instances[0]?.instanceId}",status="success"} 1`);
    const recent = (await (await fetch(`${router.url}/api/v1/admin/traces?limit=5`)).json()) as { routes: Array<{ trace_id: string }> };
    expect(recent.routes[0]?.trace_id).toBe('d'.repeat(32));
    const missing = await fetch(`${router.url}/api/v1/admin/traces/${'e'.repeat(32)}`);
    expect(missing.status).toBe(404);
    await closeAll(instances);
  });
});
