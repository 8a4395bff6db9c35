/**
 * A run that stalls past its lease after its last renewal (ADR 0027 round 2), on the real NATS and
 * Redis: the guards' own writes at the end are compare-and-sets on the run's lease, so they never
 * overwrite or erase the record of the copy that took the lapsed lease over, and the loss is
 * reported like one a renewal finds. The stall is a run whose guard is never swept while its
 * handler outlives a 300 ms lease.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { connectTestNats, connectTestRedis, deleteBuckets, deleteKeysWithPrefix, uniqueName, type TestRedis } from '@aegis-ipc/testing';
import { KvDedupeStore, MessageStatusStore, RedisDedupeStore, type DedupeStore, type MessageStatus } from '@aegis-ipc/sdk';
import { dedupeGuard, reliableDedupeKey } from '../../src/reliable/dedupe-guard.js';
import type { GuardResult } from '../../src/reliable/idempotency-guard.js';
import { statusRecordGuard } from '../../src/reliable/status-record-guard.js';

const LEASE_MS = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let nc: NatsConnection;
let redis: TestRedis;
const dedupeBucket = uniqueName('DEDUPE').toUpperCase();
const statusBucket = uniqueName('STATUS').toUpperCase();
const prefix = `${uniqueName('stall')}:`;
const stores: Record<string, () => Promise<DedupeStore>> = {
  kv: () => KvDedupeStore.open(nc, { bucket: dedupeBucket, ttlMs: 60_000 }),
  redis: () => Promise.resolve(new RedisDedupeStore(redis, { keyPrefix: prefix })),
};

beforeAll(async () => {
  nc = await connectTestNats('aegis-stalled-lease-test');
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteBuckets(nc, [dedupeBucket, statusBucket]);
  await deleteKeysWithPrefix(redis, prefix);
  await nc.close();
  await redis.close();
});

/** Runs `guard` with a handler that returns `response` once `stalled` resolves. */
function runStalled(run: (invoke: () => Promise<unknown>) => Promise<GuardResult>, stalled: Promise<void>, response: unknown): Promise<GuardResult> {
  return run(async () => {
    await stalled;
    return response;
  });
}

describe.each(Object.keys(stores))('%s store: a run stalled past its lease', (kind) => {
  it('does not complete over the copy that took the lease over; it answers with the copy\'s recorded response', async () => {
    const store = await stores[kind]!();
    const lost: string[] = [];
    const guard = dedupeGuard({ store, responseTtlMs: 60_000, leaseMs: LEASE_MS, onLeaseLost: (key) => void lost.push(key), onError: () => undefined });
    const messageId = uniqueName('msg');
    const key = reliableDedupeKey('svc', messageId);
    let resume!: () => void;
    const result = runStalled((invoke) => guard.run({ messageId, serviceName: 'svc' }, invoke, () => undefined), new Promise((r) => (resume = r)), { by: 'stalled' });
    await sleep(LEASE_MS + 150);
    // The copy: another instance's claim of the lapsed lease.
    const copy = await (await stores[kind]!()).claim(key, 60_000);
    if (copy.state !== 'claimed' || copy.lease === undefined) throw new Error(`expected the copy to claim, got ${copy.state}`);
    resume();
    expect(await result).toEqual({ kind: 'busy', retryAfterMs: LEASE_MS });
    expect(lost).toEqual([key]);
    // The copy's lease is intact: it completes, and the stalled run's redelivery is answered from it.
    expect(await store.completeIfHeld!(copy.lease, { by: 'copy' }, 60_000)).toBe(true);
    const again = runStalled((invoke) => guard.run({ messageId, serviceName: 'svc' }, invoke, () => undefined), Promise.resolve(), { by: 'again' });
    expect(await again).toEqual({ kind: 'duplicate', response: { by: 'copy' } });
  });

  it('a failed run does not release the copy\'s lease', async () => {
    const store = await stores[kind]!();
    const lost: string[] = [];
    const guard = dedupeGuard({ store, responseTtlMs: 60_000, leaseMs: LEASE_MS, onLeaseLost: (key) => void lost.push(key), onError: () => undefined });
    const messageId = uniqueName('msg');
    const key = reliableDedupeKey('svc', messageId);
    let fail!: (err: Error) => void;
    const result = guard.run({ messageId, serviceName: 'svc' }, () => new Promise((_r, reject) => (fail = reject)), () => undefined);
    await sleep(LEASE_MS + 150);
    expect((await (await stores[kind]!()).claim(key, 60_000)).state).toBe('claimed');
    fail(new Error('boom'));
    expect(await result).toEqual({ kind: 'busy', retryAfterMs: LEASE_MS });
    expect(await store.claim(key, 60_000)).toEqual({ state: 'in-progress' });
    expect(lost).toEqual([key]);
  });
});

describe('status record: a run stalled past its lease', () => {
  it('its outcome write fails its compare-and-set, is reported, and the copy\'s record stays', async () => {
    const statuses = await MessageStatusStore.open(nc, 60_000, statusBucket);
    const lost: string[] = [];
    const guard = statusRecordGuard(statuses, 60_000, { leaseMs: LEASE_MS, onLeaseLost: (id) => void lost.push(id), onError: () => undefined });
    const messageId = uniqueName('msg');
    const now = new Date().toISOString();
    const pending: MessageStatus = { message_id: messageId, service_name: 'svc', method: 'm', trace_id: 't', created_at: now, replays: 0, state: 'PENDING', retry_count: 0, last_error: null, updated_at: now };
    let resume!: () => void;
    const result = runStalled((invoke) => guard.run({ messageId, serviceName: 'svc', pending: () => pending }, invoke, () => undefined), new Promise((r) => (resume = r)), { by: 'stalled' });
    await sleep(LEASE_MS + 150);
    const copy = await statuses.claim(messageId, () => ({ ...pending, instance_id: 'copy', lease_until: Date.now() + 60_000 }));
    expect(copy.state).toBe('claimed');
    resume();
    const r = await result;
    if (r.kind !== 'processed') throw new Error(`expected processed, got ${r.kind}`);
    await expect(r.recordOutcome!({ ...pending, state: 'ACKNOWLEDGED', response: { by: 'stalled' } })).rejects.toMatchObject({ code: 'STORAGE_FAILURE' });
    expect(lost).toEqual([messageId]);
    expect(await statuses.get(messageId)).toMatchObject({ state: 'PENDING', instance_id: 'copy' });
  });
});
