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
    claim(id: string): Promise<ClaimResult> {
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
});

describe('errorText', () => {
  it('is one bounded line', () => {
    expect(errorText(new Error('a\nb\r\nc'))).toBe('a b c');
    expect(errorText(new TypeError('x'))).toBe('TypeError: x');
    expect(errorText('z'.repeat(1000))).toHaveLength(500);
  });
});
