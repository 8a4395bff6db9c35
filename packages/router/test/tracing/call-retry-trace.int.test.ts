/**
 * OBS-2 with a caller retry (ADR 0032): a retried call is still one trace — one `ipc.client.call`
 * span for the whole call whose trace id is the call's trace id, an `ipc.client.call_attempt`
 * child per attempt, and the router's spans under the attempt that reached it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installTestTracing, type TestTracing } from '@aegis-ipc/testing/tracing';
import type { AegisClient, ServiceInstance } from '@aegis-ipc/sdk';
import { uniqueName } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';

let tracing: TestTracing;
const harness = routerHarness();
let router: Router;
let client: AegisClient;

beforeAll(async () => {
  tracing = installTestTracing();
  router = await harness.start();
  ({ client } = await harness.connect());
});
afterAll(async () => {
  await harness.cleanup();
  await tracing.uninstall();
});

describe('tracing a retried call', () => {
  it('keeps every attempt in the one trace of the call', async () => {
    const service = uniqueName('svc');
    let instance: ServiceInstance | undefined;
    // the first attempt finds no instance; one registers while the call waits to retry
    const registering = new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        client.register(service, uniqueName('i')).then((i) => {
          instance = i.handle('echo', (params) => params);
          resolve();
        }, reject);
      }, 150);
    });
    tracing.exporter.reset();
    expect(await client.call(service, 'echo', { x: 1 }, { timeoutMs: 3_000, retry: { retries: 20, initialDelayMs: 50, maxDelayMs: 100 } })).toEqual({ x: 1 });
    await registering;
    await new Promise((r) => setTimeout(r, 50));

    const spans = tracing.exporter.getFinishedSpans();
    const calls = spans.filter((s) => s.name === 'ipc.client.call');
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    const traceId = call.spanContext().traceId;
    expect(call.attributes['ipc.trace_id']).toBe(traceId);
    const attempts = spans.filter((s) => s.name === 'ipc.client.call_attempt');
    expect(attempts.length).toBeGreaterThan(1);
    expect(call.attributes['ipc.call_attempts']).toBe(attempts.length);
    for (const attempt of attempts) {
      expect(attempt.spanContext().traceId).toBe(traceId);
      expect(attempt.parentSpanContext?.spanId).toBe(call.spanContext().spanId);
    }
    // the router saw every attempt as part of the same trace
    const routes = spans.filter((s) => s.name === 'ipc.router.route_request');
    expect(routes.length).toBe(attempts.length);
    for (const route of routes) expect(route.spanContext().traceId).toBe(traceId);
    expect(router.registry.online(service)).toHaveLength(1);
    await instance?.close();
  });
});
