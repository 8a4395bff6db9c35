/**
 * The `{ store }` guard's lease while a call's handler runs (ADR 0027, "exactly-once calls"):
 * renewed from the receiver's sweep, and the end of a run whose lease was lost — it answers with
 * what the record says instead of completing or releasing over another holder.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dedupeGuard, reliableDedupeKey } from '../../src/reliable/dedupe-guard.js';
import type { GuardInput, GuardResult } from '../../src/reliable/idempotency-guard.js';
import { OwnerStore } from '../dedupe/owner-store.js';

const INPUT: GuardInput = { messageId: 'm1', serviceName: 'svc' };
const KEY = reliableDedupeKey('svc', 'm1');
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A guard whose handler waits until `finish` settles it. */
function setup(store: OwnerStore) {
  const lost: string[] = [];
  const guard = dedupeGuard({ store, responseTtlMs: 60_000, leaseMs: 1000, onLeaseLost: (key) => void lost.push(key), onError: () => undefined });
  let settle!: (r: { response: unknown } | { error: Error }) => void;
  let started = false;
  const run = (): Promise<GuardResult> =>
    guard.run(INPUT, () => {
      started = true;
      return new Promise((resolve, reject) => (settle = (r) => ('error' in r ? reject(r.error) : resolve(r.response))));
    }, () => undefined);
  const untilStarted = async () => {
    for (let i = 0; i < 100 && !started; i++) await tick();
  };
  return { guard, lost, run, untilStarted, finish: (response: unknown) => settle({ response }), fail: (error: Error) => settle({ error }) };
}

/** Sweeps once a lease is due and lets the renewal settle. */
async function sweepDue(s: ReturnType<typeof setup>): Promise<void> {
  s.guard.sweep!(Date.now() + 300);
  await tick();
}

describe('dedupe guard lease renewal (ADR 0027)', () => {
  it('renews a running handler\'s lease from the sweep, stops at its end, and completes', async () => {
    const store = new OwnerStore();
    const s = setup(store);
    const result = s.run();
    await s.untilStarted();
    await sweepDue(s);
    expect(store.count('renew')).toBe(1);
    s.finish({ ok: 1 });
    const r = await result;
    expect(r).toMatchObject({ kind: 'processed', response: { ok: 1 } });
    if (r.kind === 'processed') await r.completion;
    s.guard.sweep!(Date.now() + 10_000);
    await tick();
    expect(store.count('renew')).toBe(1); // ended runs are not renewed
    expect(store.records.get(KEY)).toEqual({ s: 'done', r: { ok: 1 } });
  });

  it('a run that lost its lease to another holder neither completes nor releases: busy, and reported', async () => {
    const store = new OwnerStore();
    const s = setup(store);
    const result = s.run();
    await s.untilStarted();
    store.takeOver(KEY);
    await sweepDue(s);
    expect(s.lost).toEqual([KEY]);
    s.finish({ ok: 1 });
    expect(await result).toEqual({ kind: 'busy', retryAfterMs: 1000 });
    expect(store.records.get(KEY)).toEqual({ s: 'lease', owner: 'someone-else' });
    expect(store.count('complete') + store.count('release')).toBe(0);
  });

  it('a failed run that lost its lease leaves the other holder alone too', async () => {
    const store = new OwnerStore();
    const s = setup(store);
    const result = s.run();
    await s.untilStarted();
    store.takeOver(KEY);
    await sweepDue(s);
    s.fail(new Error('boom'));
    expect(await result).toEqual({ kind: 'busy', retryAfterMs: 1000 });
    expect(store.records.get(KEY)).toEqual({ s: 'lease', owner: 'someone-else' });
    expect(store.count('release')).toBe(0);
  });

  it('a run whose id another holder completed meanwhile answers with the recorded response', async () => {
    const store = new OwnerStore();
    const s = setup(store);
    const result = s.run();
    await s.untilStarted();
    await store.complete(KEY, { ok: 'first' });
    await sweepDue(s);
    s.finish({ ok: 'second' });
    expect(await result).toEqual({ kind: 'duplicate', response: { ok: 'first' } });
    expect(store.records.get(KEY)).toEqual({ s: 'done', r: { ok: 'first' } });
  });

  it('a run whose lease lapsed with nobody taking it claims again and ends as usual', async () => {
    const store = new OwnerStore();
    const s = setup(store);
    const result = s.run();
    await s.untilStarted();
    store.records.delete(KEY); // lapsed (Redis: the key expired)
    await sweepDue(s);
    expect(s.lost).toEqual([KEY]);
    s.finish({ ok: 1 });
    const r = await result;
    expect(r).toMatchObject({ kind: 'processed', response: { ok: 1 } });
    if (r.kind === 'processed') await r.completion;
    expect(store.records.get(KEY)).toEqual({ s: 'done', r: { ok: 1 } });
  });

  it('a renewal still in flight when the handler ends is awaited before the outcome is written', async () => {
    const store = new OwnerStore();
    const s = setup(store);
    const result = s.run();
    await s.untilStarted();
    let open!: () => void;
    store.renewGate = new Promise((resolve) => (open = resolve));
    s.guard.sweep!(Date.now() + 300); // the renewal waits at the gate
    await tick();
    s.finish({ ok: 1 });
    await tick();
    expect(store.count('complete')).toBe(0);
    store.takeOver(KEY); // meanwhile another holder took the id: the renewal will find it lost
    open();
    expect(await result).toEqual({ kind: 'busy', retryAfterMs: 1000 });
    expect(store.count('complete')).toBe(0);
  });

  it('claims, renews and looks again with the one lease length the guard was built with', async () => {
    const store = new OwnerStore();
    const s = setup(store);
    const result = s.run();
    await s.untilStarted();
    await sweepDue(s);
    store.takeOver(KEY);
    s.guard.sweep!(Date.now() + 700); // the first renewal counted from +300 ms: due again
    await tick();
    s.finish({ ok: 1 });
    expect(await result).toEqual({ kind: 'busy', retryAfterMs: 1000 });
    // claim, renewal, renewal (lost), the end's claim again
    expect(store.leaseLengths).toEqual([1000, 1000, 1000, 1000]);
  });

  it('a failed run that kept its lease releases it and rethrows', async () => {
    const store = new OwnerStore();
    const s = setup(store);
    const result = s.run();
    await s.untilStarted();
    s.fail(new Error('boom'));
    await expect(result).rejects.toThrow('boom');
    expect(store.records.has(KEY)).toBe(false);
  });
});

describe('dedupe guard: a lease lost after its last renewal (ADR 0027 round 2)', () => {
  afterEach(() => vi.useRealTimers());
  /** The process stalls: no sweep runs, and the clock moves on past the lease. */
  const stall = () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 2_000);
  };

  it('does not complete over the copy that took the lapsed lease over: counted, and busy', async () => {
    const store = new OwnerStore();
    const s = setup(store);
    const result = s.run();
    await s.untilStarted();
    stall();
    store.takeOver(KEY);
    s.finish({ ok: 1 });
    expect(await result).toEqual({ kind: 'busy', retryAfterMs: 1000 });
    expect(s.lost).toEqual([KEY]);
    expect(store.records.get(KEY)).toEqual({ s: 'lease', owner: 'someone-else' });
  });

  it('answers with the response the copy recorded meanwhile', async () => {
    const store = new OwnerStore();
    const s = setup(store);
    const result = s.run();
    await s.untilStarted();
    stall();
    store.takeOver(KEY);
    await store.complete(KEY, { ok: 'copy' });
    s.finish({ ok: 'stalled' });
    expect(await result).toEqual({ kind: 'duplicate', response: { ok: 'copy' } });
    expect(s.lost).toEqual([KEY]);
    expect(store.records.get(KEY)).toEqual({ s: 'done', r: { ok: 'copy' } });
  });

  it('claims again and records its response when the lapsed lease was left unclaimed (Redis: the key expired)', async () => {
    const store = new OwnerStore();
    const s = setup(store);
    const result = s.run();
    await s.untilStarted();
    stall();
    store.records.delete(KEY);
    s.finish({ ok: 1 });
    const r = await result;
    expect(r).toMatchObject({ kind: 'processed', response: { ok: 1 } });
    if (r.kind === 'processed') await r.completion;
    expect(store.records.get(KEY)).toEqual({ s: 'done', r: { ok: 1 } });
    expect(s.lost).toEqual([KEY]);
  });

  it('a failed run does not release the lease of the copy that took it over', async () => {
    const store = new OwnerStore();
    const s = setup(store);
    const result = s.run();
    await s.untilStarted();
    stall();
    store.takeOver(KEY);
    s.fail(new Error('boom'));
    expect(await result).toEqual({ kind: 'busy', retryAfterMs: 1000 });
    expect(store.records.get(KEY)).toEqual({ s: 'lease', owner: 'someone-else' });
    expect(s.lost).toEqual([KEY]);
  });

  it('settles an old lease\'s completion before the run resolves; a young one\'s goes beside the status write', async () => {
    for (const old of [true, false]) {
      const store = new OwnerStore();
      const s = setup(store);
      let open!: () => void;
      store.completeGate = new Promise((resolve) => (open = resolve));
      let resolved = false;
      const result = s.run().then((r) => ((resolved = true), r));
      await s.untilStarted();
      if (old) stall();
      s.finish({ ok: 1 });
      for (let i = 0; i < 5; i++) await tick();
      expect(resolved).toBe(!old);
      open();
      const r = await result;
      if (r.kind === 'processed') await r.completion;
      expect(store.records.get(KEY)).toEqual({ s: 'done', r: { ok: 1 } });
      expect(s.lost).toEqual([]);
      vi.useRealTimers();
    }
  });

  it('a young lease\'s completion that is refused all the same is counted and not recorded', async () => {
    const store = new OwnerStore();
    const s = setup(store);
    const result = s.run();
    await s.untilStarted();
    store.takeOver(KEY); // a claimer whose clock runs far ahead of ours
    s.finish({ ok: 1 });
    const r = await result;
    expect(r.kind).toBe('processed');
    if (r.kind === 'processed') await expect(r.completion).rejects.toMatchObject({ code: 'STORAGE_FAILURE' });
    expect(s.lost).toEqual([KEY]);
    expect(store.records.get(KEY)).toEqual({ s: 'lease', owner: 'someone-else' });
  });
});

describe('dedupe guard: is the id held by another delivery? (ADR 0027 round 3)', () => {
  const guardOn = (store: OwnerStore) => dedupeGuard({ store, responseTtlMs: 60_000, leaseMs: 1000, onLeaseLost: () => undefined, onError: () => undefined });

  it('asks the store\'s peek for the call\'s key: only a live lease is held', async () => {
    const peeked: string[] = [];
    let answer: 'held' | 'done' | 'free' = 'held';
    const store = Object.assign(new OwnerStore(), { peek: (id: string) => (peeked.push(id), Promise.resolve(answer)) });
    const held = guardOn(store).held!;
    expect(await held('m1', 'svc')).toBe(true);
    answer = 'done';
    expect(await held('m1', 'svc')).toBe(false);
    answer = 'free';
    expect(await held('m1', 'svc')).toBe(false);
    expect(peeked).toEqual([KEY, KEY, KEY]);
  });

  it('a store without peek is never asked: the guard has no held() and a spent copy parks as before', () => {
    expect(guardOn(new OwnerStore()).held).toBeUndefined();
  });
});
