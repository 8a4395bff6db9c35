/**
 * `client.call(…, { retry })` on the real NATS with real routers (RT-6, ADR 0032): it rides out a
 * router restart and a service still registering, never runs a handler twice unless the call is
 * idempotent, keeps within `timeoutMs` (plus the reply grace) however often it retries, fails at
 * once when an open breaker outlasts the budget, and stops waiting when its signal aborts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { AegisError, newTraceId } from '@aegis-ipc/protocol';
import { CALL_REPLY_GRACE_MS, connect, type AegisClient, type ServiceInstance } from '@aegis-ipc/sdk';
import { captureLogs, uniqueName, waitFor } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';

// Short router timings: an instance attempt times out after 200 ms, an open breaker waits 300 ms.
const ATTEMPT_MS = 200;
const BREAKER_OPEN_MS = 300;
/** What a timer-driven test may overshoot by on this shared 2-core machine. */
const SLACK_MS = 150;
const harness = routerHarness({ routeAttemptTimeoutMs: ATTEMPT_MS, routeTotalTimeoutMs: 5_000, breakerOpenMs: BREAKER_OPEN_MS });
const logs = captureLogs();
let router: Router;
let client: AegisClient;
/** The same connection with a debug logger, to see `call_retry` lines. */
let logged: AegisClient;

beforeAll(async () => {
  router = await harness.start();
  const pair = await harness.connect();
  client = pair.client;
  logged = await connect({ nc: pair.nc, logger: pino({ level: 'debug' }, logs.stream) });
});

afterAll(async () => {
  await logged.close();
  await harness.cleanup();
});

/** The rejection of `promise` (fails the test when it resolves). */
async function failureOf(promise: Promise<unknown>): Promise<AegisError> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(outcome, 'the call should have failed').toBeInstanceOf(AegisError);
  return outcome as AegisError;
}

/** The routes the router recorded for `traceId` (one per routed attempt). */
async function routesOf(traceId: string): Promise<Array<{ outcome: string; error_code: string | null; attempts: unknown[] }>> {
  const res = await fetch(`${router.url}/api/v1/admin/traces/${traceId}`);
  if (res.status === 404) return [];
  return ((await res.json()) as { routes: Array<{ outcome: string; error_code: string | null; attempts: unknown[] }> }).routes;
}

/** An instance of a new service whose `work` counts its runs and answers 'ok', fails or hangs. */
async function serviceWith(behaviour: 'ok' | 'throw' | 'hang'): Promise<{ service: string; instance: ServiceInstance; runs: { n: number } }> {
  const service = uniqueName('rt');
  const runs = { n: 0 };
  const instance = await client.register(service, uniqueName('i'));
  instance.handle('work', () => {
    runs.n++;
    if (behaviour === 'throw') throw new Error('card declined');
    return behaviour === 'hang' ? new Promise(() => {}) : 'ok';
  });
  await waitFor(() => router.registry.online(service).length === 1);
  return { service, instance, runs };
}

describe('client.call with retry', () => {
  it('rides out a router restart: no router listening is retried until one starts; without retry it fails at once', async () => {
    const { service, instance, runs } = await serviceWith('ok');
    await router.close();

    const started = performance.now();
    const plain = await failureOf(client.call(service, 'work', {}, { timeoutMs: 2_000 }));
    expect(plain.code).toBe('CONNECTION_FAILED');
    expect(plain.callAttempts).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(SLACK_MS);

    const restarted = new Promise<Router>((resolve, reject) => {
      setTimeout(() => {
        harness.start().then(resolve, reject);
      }, 300);
    });
    const traceId = newTraceId();
    const result = logged.call(service, 'work', {}, { timeoutMs: 5_000, traceId, retry: { retries: 30, initialDelayMs: 50, maxDelayMs: 200 } });
    router = await restarted;
    expect(await result).toBe('ok');
    expect(runs.n).toBe(1);
    const retries = logs.withEvent('call_retry').filter((r) => r['trace_id'] === traceId);
    expect(retries.length).toBeGreaterThan(0);
    expect(retries[0]).toMatchObject({ level: 20, service_name: service, method: 'work', attempt: 1, error_type: 'CONNECTION_FAILED' });
    expect(retries[0]?.['delay_ms']).toEqual(expect.any(Number));
    await instance.close();
  });

  it('rides out ROUTE_NO_INSTANCE while the only instance is still registering', async () => {
    const service = uniqueName('rt');
    const runs = { n: 0 };
    let instance: ServiceInstance | undefined;
    const registering = new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        client.register(service, uniqueName('i')).then((i) => {
          instance = i.handle('work', () => ++runs.n);
          resolve();
        }, reject);
      }, 300);
    });
    expect((await failureOf(client.call(service, 'work'))).code).toBe('ROUTE_NO_INSTANCE');
    const traceId = newTraceId();
    expect(await client.call(service, 'work', {}, { timeoutMs: 3_000, traceId, retry: { retries: 20, initialDelayMs: 50, maxDelayMs: 150 } })).toBe(1);
    await registering;
    // every attempt is a route of the one trace: the refusals, then the answered one
    const routes = await routesOf(traceId);
    expect(routes.length).toBeGreaterThan(1);
    expect(routes.filter((r) => r.outcome === 'success')).toHaveLength(1);
    expect(routes.filter((r) => r.outcome === 'failed').every((r) => r.error_code === 'ROUTE_NO_INSTANCE')).toBe(true);
    await instance?.close();
  });

  it('runs a throwing handler exactly once, even with retry and idempotent set', async () => {
    const { service, instance, runs } = await serviceWith('throw');
    const err = await failureOf(client.call(service, 'work', {}, { retry: { retries: 5, initialDelayMs: 10, idempotent: true } }));
    expect(err.code).toBe('APPLICATION_ERROR');
    expect(err.message).toBe('card declined');
    expect(err.callAttempts).toBe(1);
    expect(runs.n).toBe(1);
    await instance.close();
  });

  it('does not retry a timed-out call unless it is idempotent', async () => {
    const { service, instance, runs } = await serviceWith('hang');
    const traceId = newTraceId();
    const err = await failureOf(client.call(service, 'work', {}, { timeoutMs: 3_000, traceId, retry: { retries: 5, initialDelayMs: 20 } }));
    expect(err.code).toBe('ROUTE_INSTANCE_TIMEOUT');
    expect(err.callAttempts).toBe(1);
    expect(runs.n).toBe(1);
    expect(await routesOf(traceId)).toHaveLength(1);
    await instance.close();
  });

  it('retries a timed-out idempotent call within its budget (the breaker the timeout opened is waited out)', async () => {
    const { service, instance, runs } = await serviceWith('hang');
    const traceId = newTraceId();
    const timeoutMs = 1_500;
    const started = performance.now();
    const err = await failureOf(client.call(service, 'work', {}, { timeoutMs, traceId, retry: { retries: 10, initialDelayMs: 20, idempotent: true } }));
    const elapsed = performance.now() - started;
    expect(runs.n).toBeGreaterThanOrEqual(2);
    expect(err.callAttempts).toBeGreaterThanOrEqual(runs.n);
    expect(['ROUTE_INSTANCE_TIMEOUT', 'ROUTE_CIRCUIT_OPEN', 'ROUTE_NO_INSTANCE', 'ROUTE_ALL_FAILED', 'TIMEOUT']).toContain(err.code);
    expect(elapsed).toBeLessThan(timeoutMs + CALL_REPLY_GRACE_MS + SLACK_MS);
    // each routed attempt is a route of the call's one trace
    expect((await routesOf(traceId)).filter((r) => r.attempts.length > 0).length).toBe(runs.n);
    await instance.close();
  });

  it('fails at once with ROUTE_CIRCUIT_OPEN when the breaker opens again later than the budget allows', async () => {
    const { service, instance } = await serviceWith('hang');
    // the only instance times out: the service's breaker opens for BREAKER_OPEN_MS
    expect((await failureOf(client.call(service, 'work', {}, { timeoutMs: 2_000 }))).code).toBe('ROUTE_INSTANCE_TIMEOUT');
    const started = performance.now();
    const err = await failureOf(client.call(service, 'work', {}, { timeoutMs: 150, retry: { retries: 5, initialDelayMs: 10 } }));
    expect(err.code).toBe('ROUTE_CIRCUIT_OPEN');
    expect((err as AegisError<'ROUTE_CIRCUIT_OPEN'>).details?.retry_after_ms).toBeGreaterThan(150 - 10);
    expect(err.callAttempts).toBe(1);
    // callAttempts 1 is the proof it did not wait; the bound only rules out a hang (a loaded
    // 2-core machine can stall a round trip by more than the budget itself).
    expect(performance.now() - started).toBeLessThan(1_000);
    await instance.close();
  });

  it('never takes longer than timeoutMs plus the reply grace, however many retries it may make', async () => {
    const missing = uniqueName('nobody');
    const timeoutMs = 700;
    const started = performance.now();
    const err = await failureOf(client.call(missing, 'work', {}, { timeoutMs, retry: { retries: 1_000, initialDelayMs: 20, maxDelayMs: 80 } }));
    const elapsed = performance.now() - started;
    expect(err.code).toBe('ROUTE_NO_INSTANCE');
    expect(err.callAttempts).toBeGreaterThan(5);
    // it used the budget (the floor is 10 ms) and did not overrun it
    expect(elapsed).toBeGreaterThan(timeoutMs - 100);
    expect(elapsed).toBeLessThan(timeoutMs + CALL_REPLY_GRACE_MS + SLACK_MS);

    // a router that is gone: every attempt finds no responder, still within the budget
    const { service, instance } = await serviceWith('ok');
    await router.close();
    const gone = performance.now();
    const offline = await failureOf(client.call(service, 'work', {}, { timeoutMs, retry: { retries: 1_000, initialDelayMs: 20, maxDelayMs: 80 } }));
    const offlineElapsed = performance.now() - gone;
    router = await harness.start();
    expect(offline.code).toBe('CONNECTION_FAILED');
    expect(offline.callAttempts).toBeGreaterThan(5);
    expect(offlineElapsed).toBeLessThan(timeoutMs + CALL_REPLY_GRACE_MS + SLACK_MS);
    await instance.close();
  });

  it('stops a backoff wait at once with CANCELLED when the signal aborts', async () => {
    const controller = new AbortController();
    const call = client.call(uniqueName('nobody'), 'work', {}, { timeoutMs: 10_000, signal: controller.signal, retry: { retries: 5, initialDelayMs: 2_000, maxDelayMs: 2_000 } });
    // the first attempt is refused within milliseconds; the call then waits 1–2 s to retry
    await new Promise((resolve) => setTimeout(resolve, 100));
    const aborted = performance.now();
    controller.abort();
    const err = await failureOf(call);
    expect(err.code).toBe('CANCELLED');
    expect(err.callAttempts).toBe(1);
    expect(performance.now() - aborted).toBeLessThan(500); // the backoff it cut short was 1–2 s
  });

  it('refuses a retry option that cannot be meant, before sending', async () => {
    const err = await failureOf(client.call(uniqueName('nobody'), 'work', {}, { retry: { retries: -1 } }));
    expect(err.code).toBe('CONFIG_INVALID');
  });
});
