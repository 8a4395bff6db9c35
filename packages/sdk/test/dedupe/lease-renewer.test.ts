import { describe, expect, it } from 'vitest';
import { LeaseRenewer } from '../../src/dedupe/lease-renewer.js';
import type { DedupeStore } from '../../src/dedupe/dedupe-store.js';
import { OwnerStore } from './owner-store.js';

const LEASE = 1000; // renewed once 250 ms old

function renewer(store: DedupeStore) {
  const lost: string[] = [];
  const errors: string[] = [];
  const r = new LeaseRenewer({ store, leaseMs: LEASE, onLost: (key) => void lost.push(key), onError: (_err, what) => void errors.push(what) });
  return { r, lost, errors };
}

/** Lets the renewals started by a sweep settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('LeaseRenewer', () => {
  it('renews a held lease once it is a quarter of the lease old, once per sweep, and not after the run ends', async () => {
    const store = new OwnerStore();
    const { r } = renewer(store);
    const claim = await store.claim('k');
    const held = r.hold('k', claim.state === 'claimed' ? claim.lease : undefined, 0);
    r.sweep(100); // too young
    expect(store.count('renew')).toBe(0);
    r.sweep(300);
    r.sweep(301); // still in flight: no second renewal
    await settle();
    expect(store.count('renew')).toBe(1);
    r.sweep(400); // renewed at 300: not due again yet
    await settle();
    expect(store.count('renew')).toBe(1);
    r.sweep(600);
    await settle();
    expect(store.count('renew')).toBe(2);
    expect(r.end(held)).toBeUndefined();
    r.sweep(10_000);
    await settle();
    expect([store.count('renew'), r.size, held.lost]).toEqual([2, 0, false]);
  });

  it('marks a lease taken over by another holder lost, reports it and stops renewing it — without touching the record', async () => {
    const store = new OwnerStore();
    const { r, lost } = renewer(store);
    const claim = await store.claim('k');
    const held = r.hold('k', claim.state === 'claimed' ? claim.lease : undefined, 0);
    store.takeOver('k');
    r.sweep(300);
    await settle();
    expect([held.lost, lost, r.size]).toEqual([true, ['k'], 0]);
    expect(store.records.get('k')).toEqual({ s: 'lease', owner: 'someone-else' });
    r.sweep(10_000);
    await settle();
    expect(store.count('renew')).toBe(1);
  });

  it('keeps a lease whose renewal could not reach the store and tries again at the next sweep', async () => {
    const store = new OwnerStore();
    const { r, errors } = renewer(store);
    const claim = await store.claim('k');
    const held = r.hold('k', claim.state === 'claimed' ? claim.lease : undefined, 0);
    store.renewFails = true;
    r.sweep(300);
    await settle();
    expect([held.lost, errors]).toEqual([false, ['dedupe lease renewal of k']]);
    store.renewFails = false;
    r.sweep(301);
    await settle();
    expect([store.count('renew'), held.lost]).toEqual([2, false]);
  });

  it('hands the renewal in flight to the run that ends, so it can wait for its verdict', async () => {
    const store = new OwnerStore();
    const { r } = renewer(store);
    const claim = await store.claim('k');
    const held = r.hold('k', claim.state === 'claimed' ? claim.lease : undefined, 0);
    let open!: () => void;
    store.renewGate = new Promise((resolve) => (open = resolve));
    store.takeOver('k');
    r.sweep(300);
    const pending = r.end(held);
    expect(pending).toBeDefined();
    open();
    await pending;
    expect(held.lost).toBe(true);
  });

  it('renews exactly the runs still going when runs end in any order', async () => {
    const store = new OwnerStore();
    const { r } = renewer(store);
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const held = new Map<string, ReturnType<typeof r.hold>>();
    for (const id of ids) {
      const claim = await store.claim(id);
      held.set(id, r.hold(id, claim.state === 'claimed' ? claim.lease : undefined, 0));
    }
    for (const id of ['b', 'e', 'a']) expect(r.end(held.get(id)!)).toBeUndefined();
    expect(r.end(held.get('b')!)).toBeUndefined(); // ending twice is harmless
    r.sweep(300);
    await settle();
    expect(store.calls.filter((c) => c.startsWith('renew')).sort()).toEqual(['renew c', 'renew d']);
    expect(r.size).toBe(2);
  });

  it('holds without renewing when the store cannot renew or the claim returned no lease', async () => {
    const plain: DedupeStore = { claim: () => Promise.resolve({ state: 'claimed' }), complete: () => Promise.resolve(), release: () => Promise.resolve() };
    const a = renewer(plain);
    a.r.hold('k', { id: 'k', owner: 'x' }, 0);
    const b = renewer(new OwnerStore());
    b.r.hold('k', undefined, 0);
    expect([a.r.size, b.r.size]).toEqual([0, 0]);
  });
});
