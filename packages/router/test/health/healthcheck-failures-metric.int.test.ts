/**
 * OBS-1 value of `ipc_healthcheck_failures_total`: an instance that stops heartbeating is counted
 * once per time it is found UNHEALTHY, with `reason="heartbeat_timeout"`, on the router's
 * `/metrics` — and a healthy instance of the same service adds nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { connectTestNats, uniqueName, waitFor } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';
import { rawProtocolInstance } from '../raw-protocol-instance.js';

// Default heartbeat settings (1 s interval, 3 s timeout), as shipped.
const harness = routerHarness();
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

/** The value of `ipc_healthcheck_failures_total{service_name, reason}` scraped from `/metrics` (0 when absent). */
async function failures(service: string, reason: string): Promise<number> {
  const text = await (await fetch(`${router.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`ipc_healthcheck_failures_total{service_name="${service}",reason="${reason}"} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const statusOf = (id: string) => router.registry.get(id)?.record.status;

describe('ipc_healthcheck_failures_total (OBS-1)', () => {
  it('counts an instance that stops heartbeating once per UNHEALTHY, reason heartbeat_timeout', async () => {
    const service = uniqueName('svc');
    const silent = await rawProtocolInstance(nc, service);
    const healthy = await rawProtocolInstance(nc, service);
    silent.start();
    healthy.start();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(statusOf(silent.id)).toBe('ONLINE');
    expect(await failures(service, 'heartbeat_timeout')).toBe(0);

    silent.stop();
    await waitFor(() => statusOf(silent.id) === 'UNHEALTHY', { timeoutMs: 6_000, what: 'UNHEALTHY' });
    await waitFor(async () => (await failures(service, 'heartbeat_timeout')) === 1, { timeoutMs: 2_000, what: 'the failure counted' });

    // Back, then silent again: a second failure, never counted twice for one outage.
    silent.start();
    await waitFor(() => statusOf(silent.id) === 'ONLINE', { timeoutMs: 3_000, what: 'ONLINE again' });
    expect(await failures(service, 'heartbeat_timeout')).toBe(1);
    silent.stop();
    await waitFor(() => statusOf(silent.id) === 'UNHEALTHY', { timeoutMs: 6_000, what: 'UNHEALTHY again' });
    await waitFor(async () => (await failures(service, 'heartbeat_timeout')) === 2, { timeoutMs: 2_000, what: 'the second failure counted' });

    // The instance that kept beating is still ONLINE; nothing was counted for another reason.
    expect(statusOf(healthy.id)).toBe('ONLINE');
    expect(await failures(service, 'other')).toBe(0);
    healthy.stop();
  });
});
