import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AegisClient } from '@aegis-ipc/sdk';
import { uniqueName } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';

const TOKEN = 'test-token-' + uniqueName('t');
const harness = routerHarness();
let open: Router;
let guarded: Router;
let client: AegisClient;
const service = uniqueName('svc');

beforeAll(async () => {
  open = await harness.start();
  guarded = await harness.start({ adminToken: TOKEN });
  ({ client } = await harness.connect());
  await client.register(service, `${service}-1`, { zone: 'a' });
  await client.register(service, `${service}-2`, { zone: 'b' });
});
afterAll(() => harness.cleanup());

const get = (router: Router, path: string, headers: Record<string, string> = {}) => fetch(`${router.url}${path}`, { headers });

describe('admin API (REG-3)', () => {
  it('lists every service with its instances and counts', async () => {
    const res = await get(open, '/api/v1/admin/services');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { services: Array<{ service_name: string; counts: { ONLINE: number } }>; total_instances: number };
    const mine = body.services.find((s) => s.service_name === service);
    expect(mine?.counts.ONLINE).toBe(2);
  });

  it('returns one service with its instances', async () => {
    const res = await get(open, `/api/v1/admin/services/${service}`);
    const body = (await res.json()) as { instances: Array<{ instance_id: string; metadata: unknown }> };
    expect(body.instances.map((i) => i.instance_id)).toEqual([`${service}-1`, `${service}-2`]);
    expect(body.instances[1]?.metadata).toEqual({ zone: 'b' });
    // The last heartbeat this router saw, which the KV record does not carry.
    const seen = Date.parse((body.instances[0] as { last_heartbeat_at?: string }).last_heartbeat_at ?? '');
    expect(Date.now() - seen).toBeLessThan(5_000);
  });

  it('answers 404 with a clear body for an unknown service', async () => {
    const res = await get(open, '/api/v1/admin/services/nobody-here');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'SERVICE_NOT_FOUND', status: 404, message: 'service "nobody-here" is not registered' });
  });

  it('answers 400 with field details for an invalid service name', async () => {
    const res = await get(open, '/api/v1/admin/services/bad.name');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('answers 404 in the same shape for an unknown route', async () => {
    const res = await get(open, '/api/v1/admin/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('requires the bearer token on admin routes when AEGIS_ADMIN_TOKEN is set', async () => {
    expect((await get(guarded, '/api/v1/admin/services')).status).toBe(401);
    expect((await get(guarded, '/api/v1/admin/services', { authorization: 'Bearer wrong' })).status).toBe(401);
    const denied = await get(guarded, '/api/v1/admin/services', { authorization: 'Basic abc' });
    expect(await denied.json()).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    expect((await get(guarded, '/api/v1/admin/services', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await get(guarded, '/docs/json')).status).toBe(401);
  });

  it('keeps probes and metrics open with a token set', async () => {
    expect((await get(guarded, '/health')).status).toBe(200);
    expect((await get(guarded, '/metrics')).status).toBe(200);
  });

  it('reports per-component health, liveness and readiness', async () => {
    const health = (await (await get(open, '/health')).json()) as { status: string; router_id: string; components: Record<string, { status: string }> };
    expect(health.status).toBe('up');
    expect(health.router_id).toBe(open.id);
    expect(Object.keys(health.components)).toEqual(expect.arrayContaining(['nats', 'jetstream_kv']));
    expect((await get(open, '/health/live')).status).toBe(200);
    expect((await get(open, '/health/ready')).status).toBe(200);
  });

  it('serves the OpenAPI document with the admin routes', async () => {
    const doc = (await (await get(open, '/docs/json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/admin/services', '/api/v1/admin/services/{service_name}', '/health']));
    // The trace lookup documents its gathered shape: every replica's routes, each with its router.
    const lookup = JSON.stringify((doc.paths['/api/v1/admin/traces/{trace_id}'] as { get: unknown }).get);
    for (const field of ['router_id', 'routers', 'truncated', 'gather_error', 'instances_considered']) expect(lookup).toContain(`"${field}"`);
  });

  it('exposes registry gauges on /metrics', async () => {
    const text = await (await get(open, '/metrics')).text();
    expect(text).toContain(`ipc_router_active_instances{service_name="${service}"} 2`);
  });

  it('shows instance health and runs a manual check', async () => {
    const view = (await (await get(open, `/api/v1/admin/health/instances?service=${service}`)).json()) as { services: unknown[]; history: unknown[] };
    expect(view.services).toHaveLength(1);
    const check = (await (await fetch(`${open.url}/api/v1/admin/health/check?service=${service}`, { method: 'POST' })).json()) as { results: Array<{ reachable: boolean }> };
    expect(check.results.map((r) => r.reachable)).toEqual([true, true]);
  });
});
