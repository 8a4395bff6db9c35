/**
 * SPEC OBS-3 for routed calls: the router's per-call lines carry the call's `trace_id`, and its
 * `message_id` when the caller gave one (the key is absent otherwise). The happy path and refusals
 * log at debug; a request refused before routing logs the trace id its error reply carries (RT-4).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { NatsConnection } from '@nats-io/nats-core';
import { SUBJECTS, decode, encode, newTraceId } from '@aegis-ipc/protocol';
import type { AegisClient } from '@aegis-ipc/sdk';
import { captureLogs, errorCodeOf, uniqueName, waitFor } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';

const harness = routerHarness();
const logs = captureLogs();
let router: Router;
let client: AegisClient;
let nc: NatsConnection;

beforeAll(async () => {
  router = await harness.start({ logger: pino({ level: 'debug' }, logs.stream) });
  ({ client, nc } = await harness.connect());
});

afterAll(() => harness.cleanup());

const withTrace = (event: string, traceId: string) => logs.withEvent(event).filter((r) => r['trace_id'] === traceId);

describe('routed call logs', () => {
  it('an answered call logs route_done (debug) with its trace_id, service, method and instance, and no message_id', async () => {
    const service = uniqueName('svc');
    const instance = await client.register(service, uniqueName('i'));
    instance.handle('echo', (params) => params);
    await waitFor(() => router.registry.online(service).length === 1);
    const traceId = newTraceId();
    await client.call(service, 'echo', { a: 1 }, { traceId });
    await waitFor(() => withTrace('route_done', traceId).length === 1, { what: 'the route_done line' });
    const [line] = withTrace('route_done', traceId);
    expect(line).toMatchObject({ level: 20, subsystem: 'routing', service_name: service, method: 'echo', instance_id: instance.instanceId, outcome: 'answered', attempts: 1 });
    expect(line).not.toHaveProperty('message_id');
    await instance.close();
  });

  it('a call sent with a message id carries it on route_done', async () => {
    const service = uniqueName('svc');
    const instance = await client.register(service, uniqueName('i'));
    instance.handle('echo', (params) => params);
    await waitFor(() => router.registry.online(service).length === 1);
    const traceId = newTraceId();
    const messageId = uniqueName('msg');
    await client.call(service, 'echo', { a: 1 }, { traceId, messageId });
    await waitFor(() => withTrace('route_done', traceId).length === 1, { what: 'the route_done line' });
    expect(withTrace('route_done', traceId)[0]).toMatchObject({ level: 20, message_id: messageId, outcome: 'answered' });
    await instance.close();
  });

  it('a refused call (no instance) logs route_failed at debug with its trace_id: refusals can come at request rate', async () => {
    const traceId = newTraceId();
    expect(await errorCodeOf(client.call(uniqueName('nobody'), 'x', {}, { traceId }))).toBe('ROUTE_NO_INSTANCE');
    await waitFor(() => withTrace('route_failed', traceId).length === 1, { what: 'the route_failed line' });
    expect(withTrace('route_failed', traceId)[0]).toMatchObject({ level: 20, subsystem: 'routing', error_type: 'ROUTE_NO_INSTANCE', method: 'x' });
    expect(withTrace('route_failed', traceId)[0]).not.toHaveProperty('message_id');
  });

  it('a failed attempt and a failed call log the message id of a call sent with one', async () => {
    const service = uniqueName('svc');
    const gone = uniqueName('gone');
    // registered, but nothing listens on its inbox: the attempt finds no responder at once
    await nc.request(SUBJECTS.register, encode({ service_name: service, instance_id: gone }), { timeout: 2_000 });
    await waitFor(() => router.registry.online(service).length === 1);
    const traceId = newTraceId();
    const messageId = uniqueName('msg');
    expect(await errorCodeOf(client.call(service, 'x', {}, { traceId, messageId }))).toBe('ROUTE_ALL_FAILED');
    await waitFor(() => withTrace('route_failed', traceId).length === 1, { what: 'the route_failed line' });
    expect(withTrace('route_attempt_failed', traceId)[0]).toMatchObject({ level: 40, message_id: messageId, instance_id: gone, failure: 'no_responders' });
    expect(withTrace('route_failed', traceId)[0]).toMatchObject({ level: 40, message_id: messageId, error_type: 'ROUTE_ALL_FAILED' });
  });

  it('a request refused before routing logs route_rejected with the trace id of its error reply', async () => {
    const reply = decode((await nc.request(SUBJECTS.routeRequest, encode({ service_name: 'a.b', method: 42 }), { timeout: 2_000 })).data) as { error: { code: string; details: { trace_id: string } } };
    expect(reply.error.code).toBe('VALIDATION_FAILED');
    const traceId = reply.error.details.trace_id;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    await waitFor(() => withTrace('route_rejected', traceId).length === 1, { what: 'the route_rejected line' });
    expect(withTrace('route_rejected', traceId)[0]).toMatchObject({ level: 20, error_type: 'VALIDATION_FAILED' });
  });
});
