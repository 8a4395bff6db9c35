/**
 * An instance that declares its own heartbeat interval at registration is judged by its effective
 * timeout, not the router's single one (ADR 0007). Short router settings keep this in seconds:
 * router interval 300 ms / timeout 900 ms (3 missed beats), so an instance declaring 1 000 ms gets
 * 3 000 ms; the registry TTL is the 60 s minimum, so intervals of 30 000 ms or more are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { SUBJECTS, decode, encode } from '@aegis-ipc/protocol';
import { connectTestNats, uniqueName, waitFor } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';
import { rawProtocolInstance } from '../raw-protocol-instance.js';

const ROUTER = { heartbeatIntervalMs: 300, heartbeatTimeoutMs: 900, registryTtlMs: 60_000 };
/** The sweep period the health monitor derives from a 900 ms timeout. */
const SWEEP_MS = 225;
const harness = routerHarness(ROUTER);
let router: Router;
let nc: NatsConnection;

beforeAll(async () => {
  router = await harness.start();
  nc = await connectTestNats();
});
afterAll(async () => {
  await nc.close();
  await harness.cleanup();
});

type Reply = Record<string, unknown> & { error?: { code: string; details?: { fields?: unknown } } };

async function register(body: Record<string, unknown>): Promise<Reply> {
  return decode((await nc.request(SUBJECTS.register, encode(body), { timeout: 5_000 })).data) as Reply;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const transitionsOf = (r: Router, service: string) => r.registry.history(service).map((h) => `${h.from ?? 'new'}→${h.to}`);

describe('declared heartbeat intervals (ADR 0007)', () => {
  it('keeps an instance heartbeating at its declared 1 s interval ONLINE, detects its silence within 3 s + one sweep, and takes it back', { timeout: 15_000 }, async () => {
    const service = uniqueName('svc');
    const instance = await rawProtocolInstance(nc, service, { declaredIntervalMs: 1_000 });
    instance.start();
    await sleep(4_500); // four and a half declared intervals, five router timeouts
    expect(transitionsOf(router, service)).toEqual(['new→ONLINE']);
    expect(router.registry.get(instance.id)?.record.status).toBe('ONLINE');
    expect(instance.reply).toMatchObject({ status: 'ONLINE', heartbeat_interval_ms: 1_000, heartbeat_timeout_ms: 3_000 });

    instance.stop();
    await nc.flush();
    const lastBeatAt = instance.lastBeatAt;
    await waitFor(() => router.registry.get(instance.id)?.record.status === 'UNHEALTHY', { timeoutMs: 6_000, intervalMs: 20, what: 'UNHEALTHY' });
    const detectionMs = Date.now() - lastBeatAt;
    expect(detectionMs).toBeGreaterThan(3_000);
    // Effective timeout + one sweep, with room for the KV write and this test's 20 ms polling.
    expect(detectionMs).toBeLessThan(3_000 + SWEEP_MS + 1_000); // + a KV write on a loaded machine
    expect(router.registry.history(service).at(-1)?.reason).toBe('no heartbeat for 3000 ms');

    instance.start();
    await waitFor(() => router.registry.get(instance.id)?.record.status === 'ONLINE', { timeoutMs: 1_000, intervalMs: 20, what: 'ONLINE again' });
    instance.stop();
    expect(transitionsOf(router, service)).toEqual(['new→ONLINE', 'ONLINE→UNHEALTHY', 'UNHEALTHY→ONLINE']);
    console.log(`declared 1000 ms interval: heartbeat loss detected in ${detectionMs} ms`);
  });

  it("gives an instance that declares nothing, or the router's interval, exactly the router's timeout", async () => {
    const service = uniqueName('svc');
    const silent = await register({ service_name: service, instance_id: uniqueName('i') });
    expect(silent).toMatchObject({ heartbeat_interval_ms: 300, heartbeat_timeout_ms: 900 });
    const same = await register({ service_name: service, instance_id: uniqueName('i'), heartbeat_interval_ms: 300 });
    expect(same).toMatchObject({ heartbeat_interval_ms: 300, heartbeat_timeout_ms: 900 });
    const shorter = await register({ service_name: service, instance_id: uniqueName('i'), heartbeat_interval_ms: 100 });
    expect(shorter).toMatchObject({ heartbeat_interval_ms: 100, heartbeat_timeout_ms: 900 });
  });

  it('refuses an interval of half the registry TTL or more with VALIDATION_FAILED and keeps serving', async () => {
    const service = uniqueName('svc');
    const id = uniqueName('i');
    const refused = await register({ service_name: service, instance_id: id, heartbeat_interval_ms: 30_000 });
    expect(refused.error?.code).toBe('VALIDATION_FAILED');
    expect(refused.error?.details?.fields).toEqual([{ path: '/heartbeat_interval_ms', message: expect.stringContaining('must be <= 29999') }]);
    expect(router.registry.get(id)).toBeUndefined();

    const accepted = await register({ service_name: service, instance_id: id, heartbeat_interval_ms: 29_999 });
    expect(accepted.error).toBeUndefined();
    expect(accepted).toMatchObject({ status: 'ONLINE', heartbeat_interval_ms: 29_999, heartbeat_timeout_ms: 89_997 });
  });

  it('stores a changed interval when the same session registers again', async () => {
    const service = uniqueName('svc');
    const id = uniqueName('i');
    const first = await register({ service_name: service, instance_id: id, session_id: 's1', heartbeat_interval_ms: 1_000 });
    const again = await register({ service_name: service, instance_id: id, session_id: 's1', heartbeat_interval_ms: 2_000 });
    expect(again).toMatchObject({ idempotent: true, registered_at: first.registered_at, heartbeat_interval_ms: 2_000, heartbeat_timeout_ms: 6_000 });
    expect(router.registry.get(id)?.record.heartbeat_interval_ms).toBe(2_000);
  });

  it("answers 409 to another session while the holder is within its declared interval's timeout", async () => {
    const service = uniqueName('svc');
    const holder = await rawProtocolInstance(nc, service, { declaredIntervalMs: 1_000 });
    holder.start();
    holder.stop(); // one beat, then the gap of a slow declared interval: past 900 ms, inside 3 000 ms
    await sleep(1_500);
    const other = await register({ service_name: service, instance_id: holder.id, session_id: 'another-process', heartbeat_interval_ms: 1_000 });
    expect(other.error?.code).toBe('REGISTRATION_CONFLICT');
    expect(router.registry.get(holder.id)?.record.session_id).toBe(holder.session);
  });

  it('a replica that starts between two beats of a long interval does not evict the instance', { timeout: 15_000 }, async () => {
    const service = uniqueName('svc');
    const instance = await rawProtocolInstance(nc, service, { declaredIntervalMs: 2_000 }); // effective timeout 6 000 ms
    instance.start();
    await sleep(2_300); // the registration is older than the router's 900 ms; the next beat is ~1.7 s away
    const replica = await harness.start();
    await sleep(2_500); // the replica has seen one beat at most; without its start grace it would sweep at ~900 ms
    instance.stop();
    expect(transitionsOf(replica, service)).toEqual(['new→ONLINE']); // loaded from KV, never changed
    expect(transitionsOf(router, service)).toEqual(['new→ONLINE']);
    expect(replica.registry.get(instance.id)?.record.status).toBe('ONLINE');
  });
});
