/** An in-memory dedupe store with owner tokens and renewals, for the lease tests (ADR 0027). */
import type { ClaimResult, DedupeLease, DedupeStore } from '../../src/dedupe/dedupe-store.js';

export type MemoryRecord = { readonly s: 'lease'; readonly owner: string } | { readonly s: 'done'; readonly r: unknown };

export class OwnerStore implements DedupeStore {
  readonly records = new Map<string, MemoryRecord>();
  readonly calls: string[] = [];
  /** The lease length of every claim and renewal, in order. */
  readonly leaseLengths: number[] = [];
  private owners = 0;
  /** Set to make renewals fail (a store outage) or hang until resolved. */
  renewFails = false;
  renewGate: Promise<void> | undefined;

  claim(id: string, leaseMs = 0): Promise<ClaimResult> {
    this.calls.push(`claim ${id}`);
    this.leaseLengths.push(leaseMs);
    const r = this.records.get(id);
    if (r?.s === 'done') return Promise.resolve({ state: 'done', response: r.r });
    if (r !== undefined) return Promise.resolve({ state: 'in-progress' });
    const owner = `o${++this.owners}`;
    this.records.set(id, { s: 'lease', owner });
    return Promise.resolve({ state: 'claimed', lease: { id, owner } });
  }

  complete(id: string, response: unknown): Promise<void> {
    this.calls.push(`complete ${id}`);
    this.records.set(id, { s: 'done', r: response });
    return Promise.resolve();
  }

  /** Set to hold conditional completions until resolved. */
  completeGate: Promise<void> | undefined;

  async completeIfHeld(lease: DedupeLease, response: unknown): Promise<boolean> {
    this.calls.push(`complete ${lease.id} if held`);
    if (this.completeGate !== undefined) await this.completeGate;
    if (!this.holds(lease)) return false;
    this.records.set(lease.id, { s: 'done', r: response });
    return true;
  }

  releaseIfHeld(lease: DedupeLease): Promise<boolean> {
    this.calls.push(`release ${lease.id} if held`);
    if (!this.holds(lease)) return Promise.resolve(false);
    this.records.delete(lease.id);
    return Promise.resolve(true);
  }

  private holds(lease: DedupeLease): boolean {
    const r = this.records.get(lease.id);
    return r?.s === 'lease' && r.owner === lease.owner;
  }

  release(id: string): Promise<void> {
    this.calls.push(`release ${id}`);
    this.records.delete(id);
    return Promise.resolve();
  }

  async renew(lease: DedupeLease, leaseMs: number): Promise<DedupeLease | undefined> {
    this.calls.push(`renew ${lease.id}`);
    this.leaseLengths.push(leaseMs);
    if (this.renewGate !== undefined) await this.renewGate;
    if (this.renewFails) throw new Error('store unreachable');
    return this.holds(lease) ? lease : undefined;
  }

  /** Another holder takes the id over (what a copy does once a lease has lapsed). */
  takeOver(id: string): void {
    this.records.set(id, { s: 'lease', owner: 'someone-else' });
  }

  count(prefix: string): number {
    return this.calls.filter((c) => c.startsWith(prefix)).length;
  }
}
