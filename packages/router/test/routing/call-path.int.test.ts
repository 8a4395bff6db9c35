import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AegisClient } from '@aegis-ipc/sdk';
import { uniqueName, waitFor, errorCodeOf } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';

const harness = routerHarness();
let router: Router;
let client: AegisClient;

beforeAll(async () => {
  router = await harness.start();
  ({ client } = await harness.connect());
});

afterAll(() => harness.cleanup());


describe('call path', () => {
  it('routes a call to an instance and returns the handler result', async () => {
    const service = uniqueName('svc');
    const instance = await client.register(service, uniqueName('i'));
    instance.handle('echo', (params, ctx) => ({ params, instance: ctx.instanceId, trace: ctx.traceId, attempt: ctx.attempt }));
    await waitFor(() => router.registry.online(service).length === 1);
    const result = await client.call<{ params: unknown; instance: string; attempt: number }>(service, 'echo', { hello: 'world' }, { traceId: 'a'.repeat(32) });
    expect(result.params).toEqual({ hello: 'world' });
    expect(result.instance).toBe(instance.instanceId);
    expect(result.attempt).toBe(1);
    await instance.close();
  });

  it('answers 503 ROUTE_NO_INSTANCE for an unknown service', async () => {
    expect(await errorCodeOf(client.call(uniqueName('nobody'), 'x'))).toBe('ROUTE_NO_INSTANCE');
  });
});
