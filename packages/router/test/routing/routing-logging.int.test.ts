/**
 * SPEC OBS-3 for routed calls: the router's per-call lines carry the call's `trace_id` (a routed
 * call has no message id — only exactly-once calls and events do). The happy path and refusals log
 * at debug.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { newTraceId } from '@aegis-ipc/protocol';
import type { AegisClient } from '@aegis-ipc/sdk';
import { captureLogs, errorCodeOf, uniqueName, waitFor } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';

const harness = routerHarness();
const logs = captureLogs();
let router: Router;
let client: AegisClient;

beforeAll(async () => {
  router = await harness.start({ logger: pino({ level: 'debug' }, logs.stream) });
  ({ client } = await harness.connect());
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

  it('a refused call (no instance) logs route_failed at debug with its trace_id: refusals can come at request rate', async () => {
    const traceId = newTraceId();
    expect(await errorCodeOf(client.call(uniqueName('nobody'), 'x', {}, { traceId }))).toBe('ROUTE_NO_INSTANCE');
    await waitFor(() => withTrace('route_failed', traceId).length === 1, { what: 'the route_failed line' });
    expect(withTrace('route_failed', traceId)[0]).toMatchObject({ level: 20, subsystem: 'routing', error_type: 'ROUTE_NO_INSTANCE', method: 'x' });
  });
});
