/**
 * RT-2 across process boundaries: 3,000 calls over three echo instance processes land 1,000 on
 * each (±1). The router's in-process strategy tests prove the arithmetic; this proves nothing on
 * the way — registration order, heartbeats, separate connections — disturbs it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type AegisClient } from '@aegis-ipc/sdk';
import type { Router } from '@aegis-ipc/router';
import { TEST_NATS_URL, uniqueName, waitFor } from '@aegis-ipc/testing';
import { routerHarness } from '../router-harness.js';
import { EchoProcesses, READY_TIMEOUT_MS } from './echo-processes.js';

const CALLS = 3_000;
const CONCURRENCY = 10;

describe('round robin over 3 instance processes', () => {
  const harness = routerHarness();
  const service = uniqueName('faultdist');
  const ids = [`${service}-a`, `${service}-b`, `${service}-c`];
  const fleet = new EchoProcesses(service);
  let router: Router;
  let client: AegisClient | undefined;

  beforeAll(async () => {
    router = await harness.start();
    await fleet.start(ids);
    await waitFor(() => router.registry.online(service).length === ids.length, { timeoutMs: 30_000, what: 'three ONLINE instances' });
    client = await connect({ servers: TEST_NATS_URL, name: 'fault-distribution-caller' });
  }, READY_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    await client?.close();
    await fleet.stopAll();
    await harness.cleanup();
  });

  it('lands 3,000 calls as 1,000 per instance (±1), each answer its own', async () => {
    const counts = new Map<string, number>();
    let wrong = 0;
    let next = 0;
    const worker = async () => {
      // Bounded: the shared counter hands out exactly CALLS calls.
      while (next < CALLS) {
        const n = next++;
        const reply = await client!.call<{ n?: unknown; instance_id: string }>(service, 'echo', { n });
        if (reply.n !== n) wrong++;
        counts.set(reply.instance_id, (counts.get(reply.instance_id) ?? 0) + 1);
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    console.info(`[faults/distribution] ${CALLS} calls in ${Date.now() - started} ms: ${JSON.stringify(Object.fromEntries(counts))}, wrong answers ${wrong}`);

    expect(wrong).toBe(0);
    expect([...counts.keys()].sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect(counts.get(id)).toBeGreaterThanOrEqual(CALLS / ids.length - 1);
      expect(counts.get(id)).toBeLessThanOrEqual(CALLS / ids.length + 1);
    }
  });
});
