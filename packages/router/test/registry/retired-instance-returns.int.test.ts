/**
 * An instance retired while it was in fact alive — here a real echo process (examples/echo, the
 * SDK) paused with SIGSTOP for longer than the retention, as a partition would cut it off — comes
 * back by itself (ADR 0008): its next heartbeat finds no record, the router asks it to register
 * again on its control subject, the SDK does, and calls reach it again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import type { AegisClient } from '@aegis-ipc/sdk';
import { uniqueName, waitFor } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';
import { EchoProcesses, READY_TIMEOUT_MS } from '../faults/echo-processes.js';

const SETTINGS = { heartbeatIntervalMs: 200, heartbeatTimeoutMs: 600, instanceRetentionMs: 1_000 };

describe('a retired instance that is still alive registers again by itself', () => {
  const harness = routerHarness(SETTINGS);
  const service = uniqueName('returns');
  const id = `${service}-1`;
  const fleet = new EchoProcesses(service);
  let replicas: Router[];
  let client: AegisClient;

  beforeAll(async () => {
    replicas = [await harness.start(), await harness.start()];
    ({ client } = await harness.connect());
    await fleet.start([id]);
  }, READY_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    await fleet.stopAll();
    await harness.cleanup();
  });

  const statusOn = (router: Router) => router.registry.get(id)?.record.status;

  it('is removed while paused, then re-registers on its first heartbeat and is routable again', { timeout: 60_000 }, async () => {
    await waitFor(() => replicas.every((r) => statusOn(r) === 'ONLINE'), { timeoutMs: 10_000, what: 'ONLINE on both replicas' });
    expect(await client.call(service, 'echo', { n: 1 })).toMatchObject({ n: 1, instance_id: id });

    fleet.signal(id, 'SIGSTOP');
    await waitFor(() => replicas.every((r) => r.registry.get(id) === undefined), { timeoutMs: 15_000, what: 'retired on both replicas' });
    for (const router of replicas) {
      expect(router.registry.history(service).map((h) => `${h.from ?? 'new'}→${h.to}`)).toEqual(['new→ONLINE', 'ONLINE→UNHEALTHY', 'UNHEALTHY→REMOVED']);
    }
    await expect(client.call(service, 'echo', {}, { timeoutMs: 2_000 })).rejects.toMatchObject({ code: 'ROUTE_NO_INSTANCE' });

    fleet.signal(id, 'SIGCONT');
    await waitFor(() => replicas.every((r) => statusOn(r) === 'ONLINE'), { timeoutMs: 15_000, what: 'ONLINE again on both replicas' });
    for (const router of replicas) {
      expect(router.registry.history(service).map((h) => `${h.from ?? 'new'}→${h.to}`).slice(-2)).toEqual(['UNHEALTHY→REMOVED', 'new→ONLINE']);
    }
    expect(await client.call(service, 'echo', { n: 2 })).toMatchObject({ n: 2, instance_id: id });
    const kv = await new Kvm(client.nc).open(harness.bucket);
    expect((await kv.get(id))?.operation).toBe('PUT');
  });
});
