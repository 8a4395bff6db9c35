import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import type { AegisError} from '@aegis-ipc/protocol';
import { SUBJECTS, decode, encode } from '@aegis-ipc/protocol';
import { connect, type AegisClient } from '@aegis-ipc/sdk';
import { uniqueName, waitFor, errorCodeOf } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';

const harness = routerHarness();
let router: Router;
let nc: NatsConnection;
let client: AegisClient;

beforeAll(async () => {
  router = await harness.start();
  ({ nc, client } = await harness.connect());
});

afterAll(() => harness.cleanup());

async function rawRequest(subject: string, body: unknown): Promise<Record<string, unknown>> {
  const reply = await nc.request(subject, encode(body), { timeout: 5_000 });
  return decode(reply.data) as Record<string, unknown>;
}


describe('registration (REG-1…REG-7)', () => {
  it('acknowledges a minimal MessagePack map with the router-stamped time', async () => {
    const service = uniqueName('svc');
    const before = Date.now();
    const reply = await rawRequest(SUBJECTS.register, { service_name: service, instance_id: uniqueName('i'), metadata: { zone: 'a' } });
    expect(reply.error).toBeUndefined();
    expect(reply.status).toBe('ONLINE');
    expect(reply.idempotent).toBe(false);
    expect(Date.parse(reply.registered_at as string)).toBeGreaterThanOrEqual(before - 1000);
    expect(router.registry.service(service)?.counts.ONLINE).toBe(1);
  });

  it('treats the same registration again as idempotent: same timestamp, one entry', async () => {
    const service = uniqueName('svc');
    const id = uniqueName('i');
    const first = await client.register(service, id, { v: 1 });
    const again = await rawRequest(SUBJECTS.register, { service_name: service, instance_id: id, metadata: { v: 1 }, session_id: client.sessionId });
    expect(again.idempotent).toBe(true);
    expect(again.registered_at).toBe(first.registeredAt);
    expect(router.registry.service(service)?.counts.total).toBe(1);
    await first.close();
  });

  it('answers 409 with the holder when another live process holds the instance id', async () => {
    const service = uniqueName('svc');
    const id = uniqueName('i');
    const holder = await client.register(service, id, { owner: 'first' });
    const other = await connect({ nc, retry: { retries: 0 } });
    try {
      await other.register(service, id, { owner: 'second' });
      expect.unreachable();
    } catch (err) {
      const e = err as AegisError<'REGISTRATION_CONFLICT'>;
      expect(e.code).toBe('REGISTRATION_CONFLICT');
      expect(e.status).toBe(409);
      expect(e.details?.existing).toMatchObject({ instance_id: id, status: 'ONLINE', metadata: { owner: 'first' } });
    }
    await holder.close();
    // Once the holder is OFFLINE, the other process takes the id over.
    const taken = await other.register(service, id, { owner: 'second' });
    expect(router.registry.get(id)?.record.metadata).toMatchObject({ owner: 'second' });
    await taken.close();
  });

  it('marks an instance OFFLINE on close()', async () => {
    const service = uniqueName('svc');
    const instance = await client.register(service, uniqueName('i'));
    await instance.close();
    expect(router.registry.service(service)?.counts).toMatchObject({ OFFLINE: 1, ONLINE: 0 });
  });

  it('stores 100 concurrent registrations as exactly 100 entries', async () => {
    const service = uniqueName('svc');
    const ids = Array.from({ length: 100 }, (_, i) => `${service}-${i}`);
    const instances = await Promise.all(ids.map((id) => client.register(service, id)));
    expect(router.registry.service(service)?.counts).toMatchObject({ total: 100, ONLINE: 100 });
    // Re-sending all 100 at once is still 100 entries (idempotent under concurrency).
    await Promise.all(ids.map((id) => rawRequest(SUBJECTS.register, { service_name: service, instance_id: id, session_id: client.sessionId })));
    expect(router.registry.service(service)?.counts.total).toBe(100);
    await Promise.all(instances.map((i) => i.close()));
  });

  it.each([
    ['a dot in the service name', { service_name: 'a.b', instance_id: 'x' }, '/service_name'],
    ['a wildcard in the instance id', { service_name: 'svc', instance_id: 'x*' }, '/instance_id'],
    ['a chevron', { service_name: 'svc>', instance_id: 'x' }, '/service_name'],
    ['a space', { service_name: 'my svc', instance_id: 'x' }, '/service_name'],
    ['a control character', { service_name: 'svc', instance_id: 'x\u0007' }, '/instance_id'],
    ['an empty name', { service_name: '', instance_id: 'x' }, '/service_name'],
    ['an over-long name', { service_name: 's'.repeat(65), instance_id: 'x' }, '/service_name'],
    ['metadata that is not an object', { service_name: 'svc', instance_id: 'x', metadata: [1, 2] }, '/metadata'],
    ['an unknown field', { service_name: 'svc', instance_id: 'x', colour: 'red' }, '/'],
  ])('rejects %s with 400 VALIDATION_FAILED and field details', async (_what, body, path) => {
    const reply = await rawRequest(SUBJECTS.register, body);
    const error = reply.error as { code: string; status: number; details: { fields: Array<{ path: string }> } };
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.status).toBe(400);
    expect(error.details.fields.map((f) => f.path)).toContain(path);
  });

  it('rejects oversized metadata with PAYLOAD_TOO_LARGE', async () => {
    const reply = await rawRequest(SUBJECTS.register, { service_name: 'svc', instance_id: uniqueName('i'), metadata: { blob: 'x'.repeat(20_000) } });
    expect((reply.error as { code: string }).code).toBe('PAYLOAD_TOO_LARGE');
  });

  it.each([
    ['truncated MessagePack', encode({ service_name: 'svc', instance_id: 'x' }).subarray(0, 6)],
    ['a huge declared array', Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['deep nesting', Uint8Array.from([...new Array<number>(5_000).fill(0x91), 0x01])],
    ['a __proto__ key', Uint8Array.from([0x81, 0xa9, ...Buffer.from('__proto__'), 0x81, 0xa1, 0x61, 0x01])],
    ['not MessagePack at all', new TextEncoder().encode('{"service_name":"svc"}')],
  ])('answers %s with a 400-class error and keeps serving', async (_what, bytes) => {
    const reply = decode((await nc.request(SUBJECTS.register, bytes, { timeout: 5_000 })).data) as { error?: { status: number } };
    expect(reply.error?.status).toBeGreaterThanOrEqual(400);
    expect(reply.error?.status).toBeLessThan(500);
    const service = uniqueName('svc');
    const instance = await client.register(service, uniqueName('i'));
    expect(router.registry.service(service)?.counts.ONLINE).toBe(1);
    await instance.close();
  });

  it('SDK validates names before sending', async () => {
    expect(await errorCodeOf(client.register('bad.name', 'x'))).toBe('INVALID_NAME');
    expect(await errorCodeOf(client.register('svc', 'x>'))).toBe('INVALID_NAME');
  });

  it('emits typed events and keeps a status history', async () => {
    const service = uniqueName('svc');
    const seen: string[] = [];
    const off = router.registry.onEvent((e) => e.service_name === service && seen.push(e.type));
    const instance = await client.register(service, uniqueName('i'));
    await instance.close();
    await waitFor(() => seen.includes('instance_status_changed'), { what: 'status event' });
    off();
    expect(seen[0]).toBe('instance_registered');
    expect(router.registry.history(service).map((h) => h.to)).toEqual(['ONLINE', 'OFFLINE']);
  });
});
