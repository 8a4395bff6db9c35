/** The per-service circuit breaker (RT-5): opens, pauses, probes, closes; fallback while open. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import type { AegisError} from '@aegis-ipc/protocol';
import { HEADERS, SUBJECTS, encode } from '@aegis-ipc/protocol';
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { AegisClient } from '@aegis-ipc/sdk';
import { uniqueName, waitFor, errorCodeOf } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';

const OPEN_MS = 600;
const withFallback = uniqueName('fb');
const harness = routerHarness({ routeAttemptTimeoutMs: 200, routeTotalTimeoutMs: 1_000, breakerOpenMs: OPEN_MS, fallbacks: { [withFallback]: { degraded: true } } });
let router: Router;
let nc: NatsConnection;
let client: AegisClient;

beforeAll(async () => {
  router = await harness.start();
  ({ nc, client } = await harness.connect());
});

afterAll(() => harness.cleanup());


type Breaker = { service_name: string; state: string; times_opened: number };
async function breakerOf(service: string): Promise<Breaker | undefined> {
  const body = (await (await fetch(`${router.url}/api/v1/admin/breakers`)).json()) as { breakers: Breaker[] };
  return body.breakers.find((b) => b.service_name === service);
}

/** Two instances whose `work` hangs while `broken.value` is true. */
async function flakyService(service: string, broken: { value: boolean }, calls: { n: number }) {
  const instances = await Promise.all([0, 1].map((k) => client.register(service, `${service}-${k}`)));
  for (const i of instances) {
    i.handle('work', () => {
      calls.n++;
      return broken.value ? new Promise(() => {}) : 'ok';
    });
  }
  await waitFor(() => router.registry.online(service).length === 2);
  return instances;
}

describe('circuit breaker', () => {
  it('opens when every instance failed, pauses routing, probes half-open and closes on success', async () => {
    const service = uniqueName('cb');
    const broken = { value: true };
    const calls = { n: 0 };
    const instances = await flakyService(service, broken, calls);

    expect(await errorCodeOf(client.call(service, 'work'))).toBe('ROUTE_ALL_FAILED');
    expect((await breakerOf(service))?.state).toBe('open');
    // while open: refused at once, no instance is called
    const before = calls.n;
    const started = performance.now();
    const err = await client.call(service, 'work').catch((e: unknown) => e as AegisError<'ROUTE_CIRCUIT_OPEN'>);
    expect((err as AegisError).code).toBe('ROUTE_CIRCUIT_OPEN');
    expect((err as AegisError<'ROUTE_CIRCUIT_OPEN'>).details?.retry_after_ms).toBeGreaterThan(0);
    // refused without an attempt: two attempts would take ≥ 400 ms
    expect(performance.now() - started).toBeLessThan(350);
    expect(calls.n).toBe(before);
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metrics).toContain(`ipc_router_circuit_breaker_state{service_name="${service}"} 1`);

    // after OPEN_MS: half-open, a failed probe opens it again
    await waitFor(async () => (await breakerOf(service))?.state === 'half_open', { timeoutMs: OPEN_MS * 3 });
    expect(await errorCodeOf(client.call(service, 'work'))).toBe('ROUTE_ALL_FAILED');
    expect((await breakerOf(service))?.state).toBe('open');

    // instances recover: the next probe succeeds and closes the breaker
    broken.value = false;
    await waitFor(async () => (await breakerOf(service))?.state === 'half_open', { timeoutMs: OPEN_MS * 3 });
    expect(await client.call(service, 'work')).toBe('ok');
    expect(await breakerOf(service)).toMatchObject({ state: 'closed', times_opened: 2 });
    expect(await client.call(service, 'work')).toBe('ok');
    await Promise.all(instances.map((i) => i.close()));
  });

  it('answers with the configured fallback while open', async () => {
    const broken = { value: true };
    const instances = await flakyService(withFallback, broken, { n: 0 });
    expect(await errorCodeOf(client.call(withFallback, 'work'))).toBe('ROUTE_ALL_FAILED');
    expect(await client.call(withFallback, 'work')).toEqual({ degraded: true });
    // the reply says it is a fallback
    const reply = await nc.request(SUBJECTS.routeRequest, encode({ service_name: withFallback, method: 'work' }), { timeout: 1_000, headers: natsHeaders() });
    expect(reply.headers?.get(HEADERS.fallback)).toBe('1');
    broken.value = false;
    await waitFor(async () => (await breakerOf(withFallback))?.state === 'half_open', { timeoutMs: OPEN_MS * 3 });
    expect(await client.call(withFallback, 'work')).toBe('ok');
    await Promise.all(instances.map((i) => i.close()));
  });
});
