/**
 * SPEC RT-3 "status changes emit events": a subscriber of `ipc.events.registry` sees an instance's
 * life — registered, ONLINE → UNHEALTHY when its heartbeats stop, back to ONLINE when they resume,
 * UNHEALTHY again, removed after the retention (ADR 0008) — each change once, although two router
 * replicas watch it: every change is a revision-checked KV write and only the replica whose write
 * (or delete) won announces it (registry-writer.ts). Short settings keep this in seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { SUBJECTS, decode, encode, heartbeatSubject, type RegistryEvent } from '@aegis-ipc/protocol';
import { connectTestNats, uniqueName, waitFor } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';

const harness = routerHarness({ heartbeatIntervalMs: 200, heartbeatTimeoutMs: 600, instanceRetentionMs: 1_000 });
let replicas: Router[];
let nc: NatsConnection;

beforeAll(async () => {
  replicas = [await harness.start(), await harness.start()];
  nc = await connectTestNats();
});
afterAll(async () => {
  await nc.close();
  await harness.cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const statusEverywhere = (id: string, status: string) => replicas.every((r) => r.registry.get(id)?.record.status === status);

/** Every event on `ipc.events.registry` about `service` (other tests share the subject). */
async function eventsOf(service: string): Promise<{ events: RegistryEvent[]; sub: Subscription }> {
  const events: RegistryEvent[] = [];
  const sub = nc.subscribe(SUBJECTS.events, {
    callback: (err, msg) => {
      if (err !== null) return;
      const event = decode(msg.data) as RegistryEvent;
      if (event.service_name === service) events.push(event);
    },
  });
  await nc.flush();
  return { events, sub };
}

describe('registry events (RT-3)', () => {
  it('announces registration, each status change and the removal once, with two replicas watching', { timeout: 30_000 }, async () => {
    const service = uniqueName('svc');
    const id = uniqueName('i');
    const session = uniqueName('session');
    const { events, sub } = await eventsOf(service);
    const reply = decode((await nc.request(SUBJECTS.register, encode({ service_name: service, instance_id: id, session_id: session }), { timeout: 5_000 })).data) as { error?: unknown };
    expect(reply.error).toBeUndefined();
    let timer: NodeJS.Timeout | undefined;
    const beat = () => nc.publish(heartbeatSubject(service, id), encode({ session_id: session }));
    const startBeating = () => {
      beat();
      timer = setInterval(beat, 200);
    };
    const stopBeating = () => clearInterval(timer);

    startBeating();
    await waitFor(() => statusEverywhere(id, 'ONLINE'), { what: 'ONLINE on both replicas' });
    stopBeating();
    await waitFor(() => statusEverywhere(id, 'UNHEALTHY'), { timeoutMs: 5_000, what: 'UNHEALTHY on both replicas' });
    startBeating();
    await waitFor(() => statusEverywhere(id, 'ONLINE'), { timeoutMs: 5_000, what: 'ONLINE again on both replicas' });
    stopBeating();
    await waitFor(() => replicas.every((r) => r.registry.get(id) === undefined), { timeoutMs: 10_000, what: 'removed from both replicas' });
    // a second replica's duplicate would arrive within moments of the first
    await sleep(1_000);
    sub.unsubscribe();

    expect(events.map((e) => (e.type === 'instance_status_changed' ? `${e.from}→${e.to}` : e.type))).toEqual([
      'instance_registered',
      'ONLINE→UNHEALTHY',
      'UNHEALTHY→ONLINE',
      'ONLINE→UNHEALTHY',
      'instance_removed',
    ]);
    expect(events[0]).toMatchObject({ type: 'instance_registered', instance_id: id, session_id: session });
    expect(events[1]).toMatchObject({ instance_id: id, reason: expect.stringContaining('no heartbeat') as unknown });
    for (const e of events) expect(Number.isNaN(Date.parse(e.at))).toBe(false);
  });
});
