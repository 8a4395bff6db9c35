/**
 * Dead instances are retired (SPEC RT-7 "no memory growth over long runs", REG-8; ADR 0008): an
 * instance OFFLINE or UNHEALTHY for longer than AEGIS_INSTANCE_RETENTION_MS leaves the KV bucket
 * (a delete marker), the registry of every replica, the admin API and the per-instance metric
 * series. Short settings keep this in seconds: heartbeats every 200 ms, 600 ms timeout, 1 s
 * retention (swept every 250 ms). Two replicas share each bucket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { NatsConnection } from '@nats-io/nats-core';
import { Kvm, type KV } from '@nats-io/kv';
import { SUBJECTS, decode, encode } from '@aegis-ipc/protocol';
import type { AegisClient } from '@aegis-ipc/sdk';
import { captureLogs, uniqueName, waitFor, type LogCapture } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { RegistryStore } from '../../src/registry/registry-store.js';
import { routerHarness, type RouterHarness } from '../router-harness.js';
import { rawProtocolInstance } from '../raw-protocol-instance.js';

const RETENTION_MS = 1_000;
const SETTINGS = { heartbeatIntervalMs: 200, heartbeatTimeoutMs: 600, instanceRetentionMs: RETENTION_MS };
/** The raw-protocol instances of this file answer calls, beat at the router's interval, and are named after their service. */
const raw = (service: string) => ({ answersCalls: true, beatEveryMs: SETTINGS.heartbeatIntervalMs, idPrefix: `${service}-raw` });
/** Retention, then the heartbeat timeout of the last sighting, a 250 ms sweep and slack for a loaded machine. */
const REMOVAL_BOUND_MS = 8_000;

interface Replica {
  readonly router: Router;
  readonly logs: LogCapture;
}

async function startReplicas(harness: RouterHarness): Promise<[Replica, Replica]> {
  const start = async (): Promise<Replica> => {
    const logs = captureLogs();
    return { router: await harness.start({ logger: pino({ level: 'debug' }, logs.stream) }), logs };
  };
  return [await start(), await start()];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const statusOn = (replica: Replica, id: string) => replica.router.registry.get(id)?.record.status;
const goneFrom = (replicas: readonly Replica[], id: string) => replicas.every((r) => r.router.registry.get(id) === undefined);
const transitionsOf = (replica: Replica, id: string) =>
  replica.router.registry.history().filter((h) => h.instance_id === id).map((h) => `${h.from ?? 'new'}→${h.to}`);
/** Errors of any kind, and warnings about retirement: a lost race must not show up as either. */
const problems = (replicas: readonly Replica[]) =>
  replicas.flatMap((r) => r.logs.records().filter((l) => (l['level'] as number) >= 50 || ((l['level'] as number) >= 40 && String(l['event']).startsWith('instance_retire'))));
const retiredLines = (replicas: readonly Replica[], id: string) => replicas.flatMap((r) => r.logs.withEvent('instance_retired').filter((l) => l['instance_id'] === id));

async function adminGet(replica: Replica, path: string): Promise<unknown> {
  const response = await fetch(`${replica.router.url}/api/v1/admin${path}`);
  return response.json();
}

async function listedInstanceIds(replica: Replica): Promise<string[]> {
  const body = (await adminGet(replica, '/services')) as { services: Array<{ instances: Array<{ instance_id: string }> }> };
  return body.services.flatMap((s) => s.instances.map((i) => i.instance_id));
}

/** The instance ids `/metrics` has series for (any metric with an `instance_id` label). */
async function instancesInMetrics(replica: Replica, prefix: string): Promise<Set<string>> {
  const text = await (await fetch(`${replica.router.url}/metrics`)).text();
  return new Set([...text.matchAll(/instance_id="([^"]+)"/g)].map((m) => m[1]!).filter((id) => id.startsWith(prefix)));
}

/** The value of `ipc_router_active_instances` for `service`, or undefined when it has no series. */
async function activeInstancesGauge(replica: Replica, service: string): Promise<number | undefined> {
  const text = await (await fetch(`${replica.router.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`ipc_router_active_instances{service_name="${service}"}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

async function openBucket(nc: NatsConnection, bucket: string): Promise<KV> {
  return new Kvm(nc).open(bucket);
}

describe('retiring dead instances (ADR 0008)', () => {
  const harness = routerHarness(SETTINGS);
  let replicas: [Replica, Replica];
  let nc: NatsConnection;
  let client: AegisClient;
  let kv: KV;

  beforeAll(async () => {
    replicas = await startReplicas(harness);
    ({ nc, client } = await harness.connect());
    kv = await openBucket(nc, harness.bucket);
  });
  afterAll(() => harness.cleanup());

  it('removes an unregistered instance from both replicas, the admin API and /metrics after the retention; KV holds a delete marker', { timeout: 30_000 }, async () => {
    const service = uniqueName('svc');
    const leaving = await client.register(service, `${service}-leaving`);
    const staying = await client.register(service, `${service}-staying`);
    for (const instance of [leaving, staying]) instance.handle('who', (_p, ctx) => ctx.instanceId);
    await waitFor(() => replicas.every((r) => r.router.registry.online(service).length === 2), { what: 'two instances ONLINE on both replicas' });
    // Enough calls that each replica routes to each instance (queue group, round robin).
    const answered = new Set<string>();
    for (let i = 0; i < 40; i++) answered.add(await client.call<string>(service, 'who'));
    expect(answered).toEqual(new Set([leaving.instanceId, staying.instanceId]));
    const before = await Promise.all(replicas.map((r) => instancesInMetrics(r, service)));
    expect(before.some((ids) => ids.has(leaving.instanceId))).toBe(true);

    await leaving.close();
    const closedAt = Date.now();
    await waitFor(() => replicas.every((r) => statusOn(r, leaving.instanceId) === 'OFFLINE'), { what: 'OFFLINE on both replicas' });
    await waitFor(() => goneFrom(replicas, leaving.instanceId), { timeoutMs: REMOVAL_BOUND_MS, what: 'removed from both replicas' });
    expect(Date.now() - closedAt).toBeGreaterThan(RETENTION_MS);

    for (const replica of replicas) {
      expect(await listedInstanceIds(replica)).not.toContain(leaving.instanceId);
      expect(await instancesInMetrics(replica, service)).not.toContain(leaving.instanceId);
      const distribution = (await adminGet(replica, '/routing/distribution')) as { services: Record<string, Record<string, number>> };
      expect(Object.keys(distribution.services[service] ?? {})).not.toContain(leaving.instanceId);
      expect(transitionsOf(replica, leaving.instanceId)).toEqual(['new→ONLINE', 'ONLINE→OFFLINE', 'OFFLINE→REMOVED']);
    }
    const entry = await kv.get(leaving.instanceId);
    expect(entry?.operation).toBe('DEL');

    const retired = retiredLines(replicas, leaving.instanceId);
    expect(retired).toHaveLength(1);
    expect(retired[0]).toMatchObject({ service_name: service, status: 'OFFLINE', retention_ms: RETENTION_MS, level: 30 });
    expect(retired[0]!['dead_ms']).toBeGreaterThan(RETENTION_MS);

    // The instance that kept heartbeating all along is untouched, and still served.
    for (const replica of replicas) expect(statusOn(replica, staying.instanceId)).toBe('ONLINE');
    expect(await client.call<string>(service, 'who')).toBe(staying.instanceId);
    expect(problems(replicas)).toEqual([]);
    await staying.close();
  });

  it('removes an instance that stopped heartbeating: UNHEALTHY, then gone after the retention', { timeout: 30_000 }, async () => {
    const service = uniqueName('svc');
    const silent = await rawProtocolInstance(nc, service, raw(service));
    silent.start();
    await waitFor(() => replicas.every((r) => statusOn(r, silent.id) === 'ONLINE'), { what: 'ONLINE on both replicas' });
    for (let i = 0; i < 6; i++) expect(await client.call<string>(service, 'who')).toBe(silent.id);
    expect((await Promise.all(replicas.map((r) => instancesInMetrics(r, service)))).some((ids) => ids.has(silent.id))).toBe(true);

    silent.stop();
    await waitFor(() => replicas.every((r) => statusOn(r, silent.id) === 'UNHEALTHY'), { what: 'UNHEALTHY on both replicas' });
    await waitFor(() => goneFrom(replicas, silent.id), { timeoutMs: REMOVAL_BOUND_MS, what: 'removed from both replicas' });
    for (const replica of replicas) {
      expect(await listedInstanceIds(replica)).not.toContain(silent.id);
      expect(await instancesInMetrics(replica, service)).not.toContain(silent.id);
      expect(transitionsOf(replica, silent.id)).toEqual(['new→ONLINE', 'ONLINE→UNHEALTHY', 'UNHEALTHY→REMOVED']);
      // Its service had no other instance: the gauge the "all instances down" alert reads stays,
      // at 0, instead of vanishing and resolving the alert.
      expect(await activeInstancesGauge(replica, service)).toBe(0);
    }
    expect((await kv.get(silent.id))?.operation).toBe('DEL');
    expect(retiredLines(replicas, silent.id)).toEqual([expect.objectContaining({ status: 'UNHEALTHY' })]);
    silent.close();
  });

  it('keeps an UNHEALTHY instance that beats again within the retention: ONLINE, never removed', { timeout: 30_000 }, async () => {
    const service = uniqueName('svc');
    const flaky = await rawProtocolInstance(nc, service, raw(service));
    flaky.start();
    await waitFor(() => replicas.every((r) => statusOn(r, flaky.id) === 'ONLINE'), { what: 'ONLINE on both replicas' });
    flaky.stop();
    await waitFor(() => replicas.every((r) => statusOn(r, flaky.id) === 'UNHEALTHY'), { what: 'UNHEALTHY on both replicas' });
    flaky.start();
    await waitFor(() => replicas.every((r) => statusOn(r, flaky.id) === 'ONLINE'), { what: 'ONLINE again' });
    await sleep(3 * RETENTION_MS);
    for (const replica of replicas) {
      // ONLINE at the end and never removed; an event-loop stall of the loaded machine may add a
      // flap (200 ms beats against a 600 ms timeout), which is not what this test is about.
      await waitFor(() => statusOn(replica, flaky.id) === 'ONLINE', { what: 'ONLINE at the end' });
      const transitions = transitionsOf(replica, flaky.id);
      expect(transitions.slice(0, 3)).toEqual(['new→ONLINE', 'ONLINE→UNHEALTHY', 'UNHEALTHY→ONLINE']);
      expect(transitions.filter((t) => t.endsWith('REMOVED'))).toEqual([]);
    }
    expect((await kv.get(flaky.id))?.operation).toBe('PUT');
    expect(retiredLines(replicas, flaky.id)).toEqual([]);
    flaky.close();
  });

  it('deletes a record exactly once when both replicas sweep it at the same moment, with no warning or error', { timeout: 30_000 }, async () => {
    const service = uniqueName('svc');
    const racer = await rawProtocolInstance(nc, service, raw(service));
    racer.start();
    await waitFor(() => replicas.every((r) => statusOn(r, racer.id) === 'ONLINE'), { what: 'ONLINE on both replicas' });
    racer.stop();
    await waitFor(() => replicas.every((r) => statusOn(r, racer.id) === 'UNHEALTHY'), { what: 'UNHEALTHY on both replicas' });
    // Both replicas judge the record past its retention at once (a clock RETENTION_MS ahead),
    // before their own timers would: both send the delete with the same expected revision.
    const ahead = Date.now() + 2 * RETENTION_MS;
    const removed = await Promise.all(replicas.map((r) => r.router.retirement.sweep(ahead)));
    expect(removed.filter((n) => n > 0)).toHaveLength(1);
    await waitFor(() => goneFrom(replicas, racer.id), { what: 'removed from both replicas' });

    const deletes: string[] = [];
    for await (const entry of await kv.history({ key: racer.id })) deletes.push(entry.operation);
    expect(deletes.filter((op) => op !== 'PUT')).toEqual(['DEL']);
    expect(retiredLines(replicas, racer.id)).toHaveLength(1);
    // The loser says so at debug level — unless the winner's delete marker reached it before it
    // sent its own (both replicas share this process's event loop), which is no race at all.
    const skipped = replicas.flatMap((r) => r.logs.withEvent('instance_retirement_skipped').filter((l) => l['instance_id'] === racer.id));
    expect(skipped.length).toBeLessThanOrEqual(1);
    for (const line of skipped) expect(line).toMatchObject({ level: 20, why: 'deleted_elsewhere' });
    expect(problems(replicas)).toEqual([]);
    racer.close();
  });

  it('never deletes a record rewritten since it was read: the delete carries the revision it judged', { timeout: 30_000 }, async () => {
    const service = uniqueName('svc');
    const holder = await rawProtocolInstance(nc, service, raw(service));
    holder.start();
    holder.stop();
    await waitFor(() => replicas.every((r) => statusOn(r, holder.id) === 'UNHEALTHY'), { what: 'UNHEALTHY on both replicas' });
    const judged = replicas[0].router.registry.get(holder.id)!.revision;
    // A new process takes the id over (a re-registration another replica serves) …
    const reply = decode((await nc.request(SUBJECTS.register, encode({ service_name: service, instance_id: holder.id, session_id: 'new-process' }), { timeout: 5_000 })).data) as { status?: string };
    expect(reply.status).toBe('ONLINE');
    // … so a delete sent with the revision judged dead is refused, not applied.
    const store = await RegistryStore.open(nc, { bucket: harness.bucket, ttlMs: 3_600_000, logger: pino({ level: 'silent' }) });
    expect(await store.delete(holder.id, judged)).toBe(false);
    const entry = await kv.get(holder.id);
    expect(entry?.operation).toBe('PUT');
    expect(decode(entry!.value)).toMatchObject({ session_id: 'new-process', status: 'ONLINE' });
    store.close();
    holder.close();
  });
});

describe('pod churn leaves nothing behind (RT-7 no memory growth)', () => {
  const harness = routerHarness(SETTINGS);
  const CHURN = 300;
  let replicas: [Replica, Replica];
  let client: AegisClient;

  beforeAll(async () => {
    replicas = await startReplicas(harness);
    ({ client } = await harness.connect());
  });
  afterAll(() => harness.cleanup());

  it(`holds only the live instances after ${CHURN} register, serve and unregister in turn`, { timeout: 120_000 }, async () => {
    const stable = uniqueName('stable');
    const churn = uniqueName('churn');
    const live = [await client.register(stable, `${stable}-a`), await client.register(stable, `${stable}-b`)];
    for (const instance of live) instance.handle('who', (_p, ctx) => ctx.instanceId);
    await waitFor(() => replicas.every((r) => r.router.registry.online(stable).length === 2), { what: 'stable instances ONLINE' });

    for (let i = 0; i < CHURN; i++) {
      const pod = await client.register(churn, `${churn}-${i}`);
      pod.handle('who', (_p, ctx) => ctx.instanceId);
      // The other replica learns of the pod from its watcher a moment later: call until it answers.
      await waitFor(() => client.call<string>(churn, 'who').then((id) => id === pod.instanceId, () => false), { intervalMs: 5, what: `pod ${i} answering` });
      await client.call(stable, 'who');
      await pod.close();
    }

    await waitFor(() => replicas.every((r) => r.router.registry.service(churn) === undefined), { timeoutMs: 30_000, what: 'every churned pod retired on both replicas' });
    for (const replica of replicas) {
      const { router } = replica;
      expect([...router.registry.records()].map((s) => s.record.instance_id).sort()).toEqual(live.map((i) => i.instanceId).sort());
      expect(Object.keys(router.routing.distribution())).not.toContain(churn);
      expect(await instancesInMetrics(replica, churn)).toEqual(new Set());
      expect(await listedInstanceIds(replica)).toHaveLength(2);
    }
    // Heartbeat state follows the registry once late sightings age out (router timeout + a sweep).
    await waitFor(() => replicas.every((r) => r.router.health.trackedInstances === 2), { timeoutMs: 5_000, what: 'heartbeat state of the live instances only' });
    expect(problems(replicas)).toEqual([]);
    const retired = replicas.reduce((n, r) => n + r.logs.withEvent('instance_retired').length, 0);
    expect(retired).toBe(CHURN);
    await Promise.all(live.map((i) => i.close()));
  });
});
