/**
 * SPEC REG-6: every registration event is logged as structured JSON with a stable `event` — on
 * the router (registered, registered again, conflict, rejected, status changes when heartbeats
 * stop, unregistered) and on the SDK client that registered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { pino } from 'pino';
import { SUBJECTS, decode, encode } from '@aegis-ipc/protocol';
import { connect, type AegisClient } from '@aegis-ipc/sdk';
import { TEST_NATS_URL, captureLogs, uniqueName, waitFor } from '@aegis-ipc/testing';
import { routerHarness } from '../router-harness.js';

const harness = routerHarness();
const routerLogs = captureLogs();
const clientLogs = captureLogs();
let nc: NatsConnection;
let client: AegisClient;

beforeAll(async () => {
  await harness.start({ logger: pino({ level: 'info' }, routerLogs.stream) });
  ({ nc } = await harness.connect());
  client = await connect({ servers: TEST_NATS_URL, logger: pino({ level: 'info' }, clientLogs.stream) });
});

afterAll(async () => {
  await client.close();
  await harness.cleanup();
});

async function rawRegister(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  return decode((await nc.request(SUBJECTS.register, encode(body), { timeout: 5_000 })).data) as Record<string, unknown>;
}

const about = (logs: typeof routerLogs, event: string, instanceId: string) => logs.withEvent(event).filter((r) => r['instance_id'] === instanceId);

describe('registration logs (REG-6)', () => {
  it('registered, registered again, conflict and unregistered are each one JSON line naming the service and instance', async () => {
    const service = uniqueName('svc');
    const id = uniqueName('i');
    const instance = await client.register(service, id, { zone: 'a' });
    const ids = { service_name: service, instance_id: id };
    expect(about(routerLogs, 'instance_registered', id)).toEqual([expect.objectContaining({ ...ids, level: 30, session_id: client.sessionId, metadata: { zone: 'a' } })]);
    expect(about(clientLogs, 'instance_registered', id)).toEqual([expect.objectContaining({ ...ids, level: 30, idempotent: false })]);

    await rawRegister({ service_name: service, instance_id: id, metadata: { zone: 'a' }, session_id: client.sessionId });
    expect(about(routerLogs, 'instance_reregistered', id)).toEqual([expect.objectContaining({ ...ids, level: 30 })]);

    const conflict = await rawRegister({ service_name: service, instance_id: id, session_id: uniqueName('other') });
    expect(conflict.error).toMatchObject({ code: 'REGISTRATION_CONFLICT' });
    expect(about(routerLogs, 'registration_conflict', id)).toEqual([expect.objectContaining({ ...ids, level: 40 })]);

    await instance.close();
    await waitFor(() => about(clientLogs, 'instance_unregistered', id).length === 1, { what: 'the client line' });
    expect(about(routerLogs, 'instance_unregistered', id)).toEqual([expect.objectContaining({ ...ids, level: 30, session_id: client.sessionId })]);
  });

  it('a rejected registration logs registration_rejected with its error code', async () => {
    const before = routerLogs.withEvent('registration_rejected').length;
    const reply = await rawRegister({ service_name: 'not a valid name!', instance_id: uniqueName('i') });
    expect(reply.error).toBeDefined();
    const lines = routerLogs.withEvent('registration_rejected').slice(before);
    expect(lines).toEqual([expect.objectContaining({ level: 30, code: (reply.error as { code: string }).code })]);
  });

  it('an instance that stops heartbeating is logged once per status change, with the reason', async () => {
    const service = uniqueName('svc');
    const id = uniqueName('hb');
    expect((await rawRegister({ service_name: service, instance_id: id, session_id: uniqueName('s') })).error).toBeUndefined();
    // No heartbeat ever: the router marks it UNHEALTHY after the 3 s heartbeat timeout.
    await waitFor(() => about(routerLogs, 'instance_status_changed', id).length >= 1, { timeoutMs: 8_000, what: 'the status change' });
    await new Promise((r) => setTimeout(r, 300)); // a second line for the same change would land by now
    expect(about(routerLogs, 'instance_status_changed', id)).toEqual([
      expect.objectContaining({ service_name: service, level: 30, from: 'ONLINE', to: 'UNHEALTHY', reason: expect.any(String) }),
    ]);
  });
});
