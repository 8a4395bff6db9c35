/** Both dedupe stores against the real NATS (JetStream KV) and Redis: one contract, one suite. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestNats, connectTestRedis, deleteBuckets, deleteKeysWithPrefix, uniqueName, type TestRedis } from '@aegis-ipc/testing';
import type { NatsConnection } from '@nats-io/nats-core';
import { KvDedupeStore, RedisDedupeStore, type DedupeLease, type DedupeStore } from '@aegis-ipc/sdk';

let nc: NatsConnection;
let redis: TestRedis;
const bucket = uniqueName('DEDUPE').toUpperCase();
const prefix = `${uniqueName('dedupe')}:`;
const stores: Record<string, () => Promise<DedupeStore>> = {
  kv: () => KvDedupeStore.open(nc, { bucket, ttlMs: 60_000 }),
  redis: () => Promise.resolve(new RedisDedupeStore(redis, { keyPrefix: prefix })),
};

beforeAll(async () => {
  nc = await connectTestNats('aegis-dedupe-test');
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteBuckets(nc, [bucket]);
  await deleteKeysWithPrefix(redis, prefix);
  await nc.close();
  await redis.close();
});

describe.each(Object.keys(stores))('%s dedupe store', (kind) => {
  it('claims once, reports in-progress to others, then done with the response', async () => {
    const store = await stores[kind]!();
    const id = uniqueName('msg');
    expect(await store.claim(id, 10_000)).toMatchObject({ state: 'claimed' });
    expect(await store.claim(id, 10_000)).toEqual({ state: 'in-progress' });
    await store.complete(id, { charged: 42 }, 60_000);
    expect(await store.claim(id, 10_000)).toEqual({ state: 'done', response: { charged: 42 } });
  });

  it('peeks without claiming: free, held while a lease is live, free once it lapses or is released, done once completed (ADR 0027 round 3)', async () => {
    const store = await stores[kind]!();
    const [id, lapsing] = [uniqueName('msg'), uniqueName('msg')];
    expect(await store.peek!(id)).toBe('free');
    expect((await store.claim(id, 10_000)).state).toBe('claimed'); // a peek took no lease
    expect(await store.peek!(id)).toBe('held');
    expect(await store.peek!(id)).toBe('held'); // and still none
    await store.release(id);
    expect(await store.peek!(id)).toBe('free');
    expect((await store.claim(id, 10_000)).state).toBe('claimed');
    await store.complete(id, { charged: 1 }, 60_000);
    expect(await store.peek!(id)).toBe('done');
    expect((await store.claim(lapsing, 300)).state).toBe('claimed');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await store.peek!(lapsing)).toBe('free');
  });

  it('lets the next claimer in at once after a release', async () => {
    const store = await stores[kind]!();
    const id = uniqueName('msg');
    expect((await store.claim(id, 10_000)).state).toBe('claimed');
    await store.release(id);
    expect((await store.claim(id, 10_000)).state).toBe('claimed');
  });

  it("hands a crashed holder's id to another claimer once the lease expires", async () => {
    const store = await stores[kind]!();
    const other = await stores[kind]!(); // a second receiver process
    const id = uniqueName('msg');
    expect((await store.claim(id, 300)).state).toBe('claimed');
    expect((await other.claim(id, 300)).state).toBe('in-progress');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await other.claim(id, 300)).state).toBe('claimed');
  });

  it('answers each id of a batch of concurrent claims and completions on its own', async () => {
    const store = await stores[kind]!();
    const [done, leased, ...fresh] = Array.from({ length: 12 }, () => uniqueName('msg'));
    expect((await store.claim(done!, 10_000)).state).toBe('claimed');
    await store.complete(done!, 'first', 60_000);
    expect((await store.claim(leased!, 10_000)).state).toBe('claimed');
    // Issued in one turn: the Redis store sends them as one script call.
    const results = await Promise.all([done!, leased!, ...fresh].map((id) => store.claim(id, 10_000)));
    expect(results[0]).toEqual({ state: 'done', response: 'first' });
    expect(results[1]).toEqual({ state: 'in-progress' });
    expect(results.slice(2).every((r) => r.state === 'claimed')).toBe(true);
    await Promise.all(fresh.map((id, i) => store.complete(id, i, 60_000)));
    const again = await Promise.all(fresh.map((id) => store.claim(id, 10_000)));
    expect(again).toEqual(fresh.map((_, i) => ({ state: 'done', response: i })));
  });

  it('gives exactly one of many concurrent claimers the lease', async () => {
    const store = await stores[kind]!();
    const id = uniqueName('msg');
    const results = await Promise.all(Array.from({ length: 10 }, () => store.claim(id, 10_000)));
    expect(results.filter((r) => r.state === 'claimed')).toHaveLength(1);
  });
});

describe.each(Object.keys(stores))('%s dedupe lease renewal (ADR 0027)', (kind) => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  async function claimLease(store: DedupeStore, id: string, ms: number): Promise<DedupeLease> {
    const claim = await store.claim(id, ms);
    if (claim.state !== 'claimed' || claim.lease === undefined) throw new Error(`expected a lease, got ${claim.state}`);
    return claim.lease;
  }

  it('keeps the lease past its first expiry, so another claimer still finds it in progress', async () => {
    const store = await stores[kind]!();
    const other = await stores[kind]!();
    const id = uniqueName('msg');
    let lease = await claimLease(store, id, 300);
    for (let i = 0; i < 3; i++) {
      await sleep(150);
      lease = (await store.renew!(lease, 300))!;
      expect(lease).toBeDefined();
    }
    // 450 ms after the claim: the first 300 ms lease would be long gone.
    expect(await other.claim(id, 300)).toEqual({ state: 'in-progress' });
    await store.complete(id, 'ok', 60_000);
    expect(await other.claim(id, 300)).toEqual({ state: 'done', response: 'ok' });
  });

  it('never steals: a renewal after another holder took the lapsed lease over reports it lost and leaves that lease alone', async () => {
    const store = await stores[kind]!();
    const other = await stores[kind]!();
    const id = uniqueName('msg');
    const mine = await claimLease(store, id, 200);
    await sleep(300);
    const theirs = await claimLease(other, id, 10_000); // took it over
    expect(await store.renew!(mine, 10_000)).toBeUndefined();
    // Still the other holder's: a third claimer waits, and the holder renews as usual.
    expect(await store.claim(id, 10_000)).toEqual({ state: 'in-progress' });
    expect(await other.renew!(theirs, 10_000)).toBeDefined();
  });

  it('reports a lease lost once the id is completed or released, and writes nothing', async () => {
    const store = await stores[kind]!();
    const done = uniqueName('msg');
    const doneLease = await claimLease(store, done, 10_000);
    await store.complete(done, 'first', 60_000);
    expect(await store.renew!(doneLease, 10_000)).toBeUndefined();
    expect(await store.claim(done, 10_000)).toEqual({ state: 'done', response: 'first' });
    const released = uniqueName('msg');
    const releasedLease = await claimLease(store, released, 10_000);
    await store.release(released);
    expect(await store.renew!(releasedLease, 10_000)).toBeUndefined();
    expect(await store.claim(released, 10_000)).toMatchObject({ state: 'claimed' });
  });
});

describe.each(Object.keys(stores))('%s conditional completion and release (ADR 0027 round 2)', (kind) => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  async function claimLease(store: DedupeStore, id: string, ms: number): Promise<DedupeLease> {
    const claim = await store.claim(id, ms);
    if (claim.state !== 'claimed' || claim.lease === undefined) throw new Error(`expected a lease, got ${claim.state}`);
    return claim.lease;
  }

  it('completes and releases a lease still held, also after renewals', async () => {
    const store = await stores[kind]!();
    const id = uniqueName('msg');
    let lease = await claimLease(store, id, 10_000);
    lease = (await store.renew!(lease, 10_000))!;
    expect(await store.completeIfHeld!(lease, { charged: 1 }, 60_000)).toBe(true);
    expect(await store.claim(id, 10_000)).toEqual({ state: 'done', response: { charged: 1 } });
    const released = uniqueName('msg');
    const releasedLease = await claimLease(store, released, 10_000);
    expect(await store.releaseIfHeld!(releasedLease)).toBe(true);
    expect(await store.claim(released, 10_000)).toMatchObject({ state: 'claimed' });
  });

  it('a holder that stalled past its lease neither completes nor releases over the copy that took it over', async () => {
    const store = await stores[kind]!();
    const other = await stores[kind]!();
    const id = uniqueName('msg');
    const mine = await claimLease(store, id, 200);
    await sleep(300); // stalled: no renewal
    const theirs = await claimLease(other, id, 10_000);
    expect(await store.completeIfHeld!(mine, 'stale', 60_000)).toBe(false);
    expect(await store.releaseIfHeld!(mine)).toBe(false);
    // Still the other holder's lease, which completes as usual.
    expect(await store.claim(id, 10_000)).toEqual({ state: 'in-progress' });
    expect(await other.completeIfHeld!(theirs, 'theirs', 60_000)).toBe(true);
    expect(await store.completeIfHeld!(mine, 'stale', 60_000)).toBe(false);
    expect(await store.releaseIfHeld!(mine)).toBe(false);
    expect(await store.claim(id, 10_000)).toEqual({ state: 'done', response: 'theirs' });
  });

  it('reports a released or lapsed lease lost (Redis) or still its holder\'s (KV, nobody wrote since)', async () => {
    const store = await stores[kind]!();
    const released = uniqueName('msg');
    const releasedLease = await claimLease(store, released, 10_000);
    await store.release(released);
    expect(await store.completeIfHeld!(releasedLease, 'late', 60_000)).toBe(false);
    const lapsed = uniqueName('msg');
    const lapsedLease = await claimLease(store, lapsed, 200);
    await sleep(300);
    // As renew(): on KV the record is still the holder's write; on Redis the key is gone.
    expect(await store.completeIfHeld!(lapsedLease, 'late', 60_000)).toBe(kind === 'kv');
  });

  it('answers each conditional completion of one batch on its own', async () => {
    const store = await stores[kind]!();
    const other = await stores[kind]!();
    const ids = Array.from({ length: 6 }, () => uniqueName('msg'));
    const leases = await Promise.all(ids.map((id) => claimLease(store, id, 10_000)));
    await other.complete(ids[1]!, 'theirs', 60_000);
    await store.release(ids[3]!);
    const written = await Promise.all(leases.map((lease, i) => store.completeIfHeld!(lease, i, 60_000)));
    expect(written).toEqual([true, false, true, false, true, true]);
    expect(await store.claim(ids[1]!, 10_000)).toEqual({ state: 'done', response: 'theirs' });
    expect(await store.claim(ids[4]!, 10_000)).toEqual({ state: 'done', response: 4 });
  });
});

describe('KvDedupeStore completion records (ADR 0026)', () => {
  it('complete() resolves only on the stream\'s ack (the reliable receiver acks after it); completeUnconfirmed() does not wait', async () => {
    const own = uniqueName('DEDUPEGONE').toUpperCase();
    const store = await KvDedupeStore.open(nc, { bucket: own, ttlMs: 60_000 });
    try {
      await store.completeUnconfirmed('a', true, 60_000);
      await deleteBuckets(nc, [own]); // nothing stores the bucket's subjects any more
      await expect(store.complete('b', { charged: 1 }, 60_000)).rejects.toMatchObject({ code: 'STORAGE_FAILURE' });
      await expect(store.completeUnconfirmed('c', true, 60_000)).resolves.toBeUndefined();
    } finally {
      await store.close();
      await deleteBuckets(nc, [own]);
    }
  });
});
