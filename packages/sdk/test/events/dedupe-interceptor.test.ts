/** The QoS 2 dedupe stage with lease renewal (ADR 0027): what a run writes at its end, by its lease's fate. */
import { describe, expect, it } from 'vitest';
import { composeDelivery, type Delivery, type Outcome } from '../../src/events/delivery.js';
import { dedupeStage } from '../../src/events/dedupe-interceptor.js';
import { OwnerStore } from '../dedupe/owner-store.js';

const delivery: Delivery = {
  transport: 'redis',
  topic: 't',
  group: 'g',
  messageId: 'm1',
  dedupeId: 'm1',
  key: undefined,
  qos: 2,
  headers: {},
  data: new Uint8Array(),
  deliveryCount: 1,
  trace: undefined,
};
const KEY = 't.g.m1';
const ACK: Outcome = { type: 'ack' };
const FAIL: Outcome = { type: 'fail', error: 'boom', retryable: true };
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A stage whose handler waits until `finish` is called with its outcome. */
function setup(store: OwnerStore) {
  const lost: string[] = [];
  const stage = dedupeStage({ store, leaseMs: 1000, ttlMs: 60_000, onError: () => undefined, onLeaseLost: (key, reason) => void lost.push(`${key}: ${reason}`) });
  let finish!: (o: Outcome) => void;
  let started = false;
  const pipeline = composeDelivery([stage.interceptor], () => {
    started = true;
    return new Promise<Outcome>((resolve) => (finish = resolve));
  });
  return { stage, lost, pipeline, finish: (o: Outcome) => finish(o), started: () => started };
}

async function untilStarted(s: { started: () => boolean }): Promise<void> {
  for (let i = 0; i < 100 && !s.started(); i++) await tick();
}

describe('dedupe stage lease renewal (ADR 0027)', () => {
  it('renews a running claimed handler from the sweep, stops at its end, and completes', async () => {
    const store = new OwnerStore();
    const s = setup(store);
    const run = s.pipeline(delivery);
    await untilStarted(s);
    const t0 = Date.now();
    s.stage.sweep(t0 + 300);
    await tick();
    s.stage.sweep(t0 + 600);
    await tick();
    expect(store.count('renew')).toBe(2);
    s.finish(ACK);
    expect(await run).toEqual(ACK);
    s.stage.sweep(t0 + 10_000);
    await tick();
    expect(store.count('renew')).toBe(2); // ended runs are not renewed
    await s.stage.drain();
    expect(store.records.get(KEY)).toEqual({ s: 'done', r: true });
    expect(s.lost).toEqual([]);
  });

  it('a run whose lease was taken over does not mark the id done over the new holder, nor release it', async () => {
    const store = new OwnerStore();
    for (const outcome of [ACK, FAIL]) {
      store.records.clear();
      const s = setup(store);
      const run = s.pipeline(delivery);
      await untilStarted(s);
      store.takeOver(KEY);
      s.stage.sweep(Date.now() + 300);
      await tick();
      expect(s.lost).toEqual([`${KEY}: lease renewal found the lease lost`]);
      s.finish(outcome);
      expect(await run).toEqual(outcome); // the handler's outcome stands
      await s.stage.drain();
      expect(store.records.get(KEY)).toEqual({ s: 'lease', owner: 'someone-else' });
    }
    expect(store.count('release')).toBe(0);
    expect(store.count('complete')).toBe(0);
  });

  it('a succeeded run whose lease lapsed with nobody taking it records itself through a new claim', async () => {
    const store = new OwnerStore();
    const s = setup(store);
    const run = s.pipeline(delivery);
    await untilStarted(s);
    store.records.delete(KEY); // expired (Redis) and nobody claimed it
    s.stage.sweep(Date.now() + 300);
    await tick();
    expect(s.lost).toHaveLength(1);
    s.finish(ACK);
    await run;
    await s.stage.drain();
    expect(store.records.get(KEY)).toEqual({ s: 'done', r: true });
  });

  it('waits for a renewal still in flight at the end: if it finds the lease lost, nothing is written', async () => {
    const store = new OwnerStore();
    const s = setup(store);
    const run = s.pipeline(delivery);
    await untilStarted(s);
    let open!: () => void;
    store.renewGate = new Promise((resolve) => (open = resolve));
    store.takeOver(KEY);
    s.stage.sweep(Date.now() + 300);
    s.finish(ACK);
    await tick();
    expect(store.count('complete')).toBe(0);
    open();
    await run;
    await s.stage.drain();
    expect(store.records.get(KEY)).toEqual({ s: 'lease', owner: 'someone-else' });
  });

  it('a late claim (lazy claim, ADR 0026) is renewed from then on', async () => {
    const store = new OwnerStore();
    const s = setup(store);
    const run = s.pipeline({ ...delivery, transport: 'nats', claimGraceMs: 20 });
    await untilStarted(s);
    s.stage.sweep(Date.now() + 300);
    await tick();
    expect(store.count('renew')).toBe(0); // not claimed yet: nothing to renew
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(store.records.get(KEY)).toMatchObject({ s: 'lease' });
    s.stage.sweep(Date.now() + 300);
    await tick();
    expect(store.count('renew')).toBe(1);
    s.finish(ACK);
    await run;
    await s.stage.drain();
    expect(store.records.get(KEY)).toEqual({ s: 'done', r: true });
  });

  it('a stage that throws stops renewing its lease', async () => {
    const store = new OwnerStore();
    const stage = dedupeStage({ store, leaseMs: 1000, ttlMs: 60_000, onError: () => undefined });
    const pipeline = composeDelivery([stage.interceptor], () => Promise.reject(new Error('inner stage bug')));
    await expect(pipeline(delivery)).rejects.toThrow('inner stage bug');
    stage.sweep(Date.now() + 10_000);
    await tick();
    expect(store.count('renew')).toBe(0);
  });
});
