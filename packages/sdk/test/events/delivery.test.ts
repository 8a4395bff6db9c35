import { describe, expect, it } from 'vitest';
import { backoffDelay, composeDelivery, errorText, retryPolicyInterceptor, type Delivery, type Outcome } from '../../src/events/delivery.js';
import { dedupeStage } from '../../src/events/dedupe-interceptor.js';
import type { ClaimResult, DedupeStore } from '../../src/dedupe/dedupe-store.js';

const delivery = (deliveryCount: number): Delivery => ({
  transport: 'nats',
  topic: 't',
  group: 'g',
  messageId: 'm1',
  dedupeId: 'm1',
  key: undefined,
  qos: 1,
  headers: {},
  data: new Uint8Array(),
  deliveryCount,
  trace: undefined,
});
const fail: Outcome = { type: 'fail', error: 'boom', retryable: true };

describe('backoffDelay', () => {
  it('uses one delay per attempt and repeats the last', () => {
    expect([1, 2, 3, 4, 9].map((n) => backoffDelay([100, 500, 2000], n))).toEqual([100, 500, 2000, 2000, 2000]);
    expect(backoffDelay([], 3)).toBe(0);
  });
});

describe('retry policy', () => {
  const policy = retryPolicyInterceptor({ maxDeliver: 3, backoff: [10, 20] });
  const run = (n: number, outcome: Outcome) => composeDelivery([policy], () => Promise.resolve(outcome))(delivery(n));

  it('retries with backoff below maxDeliver and dead-letters at it', async () => {
    expect(await run(1, fail)).toEqual({ type: 'retry', delayMs: 10, error: 'boom' });
    expect(await run(2, fail)).toEqual({ type: 'retry', delayMs: 20, error: 'boom' });
    expect(await run(3, fail)).toEqual({ type: 'dead-letter', error: 'boom' });
  });

  it('dead-letters a non-retryable failure at once', async () => {
    expect(await run(1, { type: 'fail', error: 'bad bytes', retryable: false })).toEqual({ type: 'dead-letter', error: 'bad bytes' });
  });

  it('parks the spare delivery without calling the handler', async () => {
    let called = false;
    const out = await composeDelivery([policy], () => {
      called = true;
      return Promise.resolve<Outcome>({ type: 'ack' });
    })(delivery(4));
    expect(out.type).toBe('dead-letter');
    expect(called).toBe(false);
  });

  it('turns a busy lease into a retry that waits for it', async () => {
    expect(await run(1, { type: 'busy', delayMs: 500 })).toMatchObject({ type: 'retry', delayMs: 500 });
  });
});

describe('dedupe interceptor', () => {
  class MemoryStore implements DedupeStore {
    readonly records = new Map<string, ClaimResult>();
    claims = 0;
    releases = 0;
    claim(id: string): Promise<ClaimResult> {
      this.claims++;
      const r = this.records.get(id);
      if (r !== undefined) return Promise.resolve(r);
      this.records.set(id, { state: 'in-progress' });
      return Promise.resolve({ state: 'claimed' });
    }
    complete(id: string, response: unknown): Promise<void> {
      this.records.set(id, { state: 'done', response });
      return Promise.resolve();
    }
    release(id: string): Promise<void> {
      this.releases++;
      this.records.delete(id);
      return Promise.resolve();
    }
  }

  it('calls the handler once per id and acks duplicates', async () => {
    const store = new MemoryStore();
    let calls = 0;
    const pipeline = composeDelivery([dedupeStage({ store, leaseMs: 1000, ttlMs: 1000, onError: () => undefined }).interceptor], () => {
      calls++;
      return Promise.resolve<Outcome>({ type: 'ack' });
    });
    expect(await pipeline(delivery(1))).toEqual({ type: 'ack' });
    expect(await pipeline(delivery(2))).toEqual({ type: 'ack', duplicate: true });
    expect(calls).toBe(1);
  });

  it('releases the id when the handler fails so the retry can run it', async () => {
    const store = new MemoryStore();
    const outcomes: Outcome[] = [fail, { type: 'ack' }];
    const pipeline = composeDelivery([dedupeStage({ store, leaseMs: 1000, ttlMs: 1000, onError: () => undefined }).interceptor], () =>
      Promise.resolve(outcomes.shift()!),
    );
    expect((await pipeline(delivery(1))).type).toBe('fail');
    expect(await pipeline(delivery(2))).toEqual({ type: 'ack' });
  });

  it('reports busy while another holder has the lease', async () => {
    const store = new MemoryStore();
    store.records.set('t.g.m1', { state: 'in-progress' });
    const pipeline = composeDelivery([dedupeStage({ store, leaseMs: 750, ttlMs: 1000, onError: () => undefined }).interceptor], () =>
      Promise.resolve<Outcome>({ type: 'ack' }),
    );
    expect(await pipeline(delivery(1))).toEqual({ type: 'busy', delayMs: 750 });
  });

  describe('lazy claim (ADR 0026)', () => {
    const lazy = (graceMs: number, deliveryCount = 1): Delivery => ({ ...delivery(deliveryCount), claimGraceMs: graceMs });
    const stage = (store: MemoryStore, errors: string[] = []) =>
      dedupeStage({ store, leaseMs: 1000, ttlMs: 1000, onError: (err, what) => void errors.push(`${what}: ${String(err)}`) });
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    it('runs a young first delivery without claiming and still writes the completion record', async () => {
      const store = new MemoryStore();
      const pipeline = composeDelivery([stage(store).interceptor], () => Promise.resolve<Outcome>({ type: 'ack' }));
      expect(await pipeline(lazy(5_000))).toEqual({ type: 'ack' });
      expect(store.claims).toBe(0);
      expect(store.records.get('t.g.m1')).toEqual({ state: 'done', response: true });
      // A later copy (a redelivery claims first) meets the record.
      expect(await pipeline(delivery(2))).toEqual({ type: 'ack', duplicate: true });
    });

    it('claims late when the handler outlives the grace, so a copy arriving then finds the lease', async () => {
      const store = new MemoryStore();
      let during: ClaimResult | undefined;
      const pipeline = composeDelivery([stage(store).interceptor], async () => {
        await sleep(80);
        during = store.records.get('t.g.m1');
        return { type: 'ack' };
      });
      expect(await pipeline(lazy(20))).toEqual({ type: 'ack' });
      expect(store.claims).toBe(1);
      expect(during).toEqual({ state: 'in-progress' });
      expect(store.records.get('t.g.m1')).toEqual({ state: 'done', response: true });
    });

    it('an unclaimed failure leaves nothing to release; a late-claimed one releases', async () => {
      const store = new MemoryStore();
      const quick = composeDelivery([stage(store).interceptor], () => Promise.resolve(fail));
      expect((await quick(lazy(5_000))).type).toBe('fail');
      expect([store.claims, store.releases, store.records.size]).toEqual([0, 0, 0]);
      const slow = composeDelivery([stage(store).interceptor], async () => {
        await sleep(60);
        return fail;
      });
      expect((await slow(lazy(10))).type).toBe('fail');
      expect([store.claims, store.releases, store.records.size]).toEqual([1, 1, 0]);
    });

    it('a late claim that finds another holder is reported as a lost lease and that holder is not released (ADR 0027)', async () => {
      const store = new MemoryStore();
      const lost: string[] = [];
      const pipeline = composeDelivery(
        [dedupeStage({ store, leaseMs: 1000, ttlMs: 1000, onError: () => undefined, onLeaseLost: (key, reason) => void lost.push(`${key}: ${reason}`) }).interceptor],
        async () => {
          store.records.set('t.g.m1', { state: 'in-progress' }); // someone else claimed meanwhile
          await sleep(60);
          return fail;
        },
      );
      expect((await pipeline(lazy(10))).type).toBe('fail');
      expect(store.releases).toBe(0);
      expect(lost).toEqual(['t.g.m1: late claim found in-progress']);
    });

    it('a late claim that finds another holder does not mark the id done over that holder\'s lease', async () => {
      const store = new MemoryStore();
      const pipeline = composeDelivery([stage(store).interceptor], async () => {
        store.records.set('t.g.m1', { state: 'in-progress' });
        await sleep(60);
        return { type: 'ack' };
      });
      expect(await pipeline(lazy(10))).toEqual({ type: 'ack' });
      expect(store.records.get('t.g.m1')).toEqual({ state: 'in-progress' });
    });

    it('a replay waiting for its original\'s unclaimed runs is busy without running the handler', async () => {
      const store = new MemoryStore();
      let called = false;
      const pipeline = composeDelivery([stage(store).interceptor], () => {
        called = true;
        return Promise.resolve<Outcome>({ type: 'ack' });
      });
      expect(await pipeline({ ...delivery(1), claimWaitMs: 1234 })).toEqual({ type: 'busy', delayMs: 1234 });
      expect([called, store.claims]).toEqual([false, 0]);
    });
  });
});

describe('errorText', () => {
  it('is one bounded line', () => {
    expect(errorText(new Error('a\nb\r\nc'))).toBe('a b c');
    expect(errorText(new TypeError('x'))).toBe('TypeError: x');
    expect(errorText('z'.repeat(1000))).toHaveLength(500);
  });
});
