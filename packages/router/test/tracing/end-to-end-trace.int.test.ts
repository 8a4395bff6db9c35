/**
 * OBS-2: with a tracer provider registered, one routed call is one trace — the caller's
 * `ipc.client.call`, the router's `ipc.router.route_request` (with the routing attributes) and
 * the instance's `ipc.instance.handle` — linked through the NATS headers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import { installTestTracing, type TestTracing } from '@aegis-ipc/testing/tracing';
import { tracingActive, type AegisClient } from '@aegis-ipc/sdk';
import { uniqueName } from '@aegis-ipc/testing';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';

let tracing: TestTracing;
const harness = routerHarness({ routeAttemptTimeoutMs: 300 });
let router: Router;
let nc: NatsConnection;
let client: AegisClient;

beforeAll(async () => {
  expect(tracingActive()).toBe(false);
  tracing = installTestTracing();
  router = await harness.start();
  ({ nc, client } = await harness.connect());
});
afterAll(async () => {
  await client.close();
  await nc.close();
  await harness.cleanup();
  await tracing.uninstall();
});

describe('end-to-end tracing', () => {
  it('links caller, router and instance spans in one trace with the routing attributes', async () => {
    expect(tracingActive()).toBe(true);
    const service = uniqueName('svc');
    const instance = await client.register(service, `${service}-1`);
    instance.handle('echo', (params) => params);
    tracing.exporter.reset();

    await client.call(service, 'echo', { x: 1 });
    await new Promise((r) => setTimeout(r, 50));
    const spans = tracing.exporter.getFinishedSpans();
    const byName = new Map(spans.map((s) => [s.name, s]));
    const callSpan = byName.get('ipc.client.call');
    const routeSpan = byName.get('ipc.router.route_request');
    const handleSpan = byName.get('ipc.instance.handle');
    expect(callSpan?.kind).toBe(SpanKind.CLIENT);
    expect(routeSpan?.kind).toBe(SpanKind.SERVER);
    expect(handleSpan?.kind).toBe(SpanKind.SERVER);
    const traceId = callSpan!.spanContext().traceId;
    expect(routeSpan!.spanContext().traceId).toBe(traceId);
    expect(handleSpan!.spanContext().traceId).toBe(traceId);
    expect(routeSpan!.parentSpanContext?.spanId).toBe(callSpan!.spanContext().spanId);
    expect(handleSpan!.parentSpanContext?.spanId).toBe(routeSpan!.spanContext().spanId);
    // The AegisIPC trace id is the OpenTelemetry trace id.
    expect(callSpan!.attributes['ipc.trace_id']).toBe(traceId);
    expect(routeSpan!.attributes).toMatchObject({
      'ipc.service_name': service,
      'ipc.instance_id': `${service}-1`,
      'ipc.routing.algorithm': 'round_robin',
      'ipc.routing.instance_count': 1,
      'ipc.routing.attempts': 1,
    });
    expect(router.routing.traces.get(traceId)).toBeDefined();
    await instance.close();
  });

  it('records the error type on the router span when every attempt fails', async () => {
    const service = uniqueName('svc');
    const slow = await client.register(service, `${service}-1`);
    slow.handle('wait', () => new Promise((r) => setTimeout(r, 2_000)));
    tracing.exporter.reset();
    await client.call(service, 'wait', {}, { timeoutMs: 1_000 }).catch(() => {});
    await new Promise((r) => setTimeout(r, 50));
    const routeSpan = tracing.exporter.getFinishedSpans().find((s) => s.name === 'ipc.router.route_request');
    expect(routeSpan?.attributes['error.type']).toMatch(/^ROUTE_/);
    expect(routeSpan?.events.some((e) => e.name === 'attempt')).toBe(true);
    await slow.close();
  });

  it('ends the call span as an error when the call fails before it is sent (oversized params)', async () => {
    tracing.exporter.reset();
    const huge = { blob: 'x'.repeat((nc.info?.max_payload ?? 1024 * 1024) + 1) };
    await expect(client.call(uniqueName('svc'), 'echo', huge)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const callSpan = tracing.exporter.getFinishedSpans().find((s) => s.name === 'ipc.client.call');
    expect(callSpan?.attributes['error.type']).toBe('PAYLOAD_TOO_LARGE');
  });
});
