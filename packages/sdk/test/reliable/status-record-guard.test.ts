/**
 * The status-record guard's lease (ADR 0027, "exactly-once calls", round 2): one length, the
 * guard's, for the claim's `lease_until`, every renewal's and the look-again delay of a run that
 * lost its record, so the claim and the renewal can never disagree; and a lease lost after the
 * last renewal (a stalled process) found by the run's own compare-and-set write, reported as lost.
 */
import { describe, expect, it } from 'vitest';
import type { MessageStatus, MessageStatusStore } from '../../src/reliable/message-status.js';
import { statusRecordGuard } from '../../src/reliable/status-record-guard.js';

const LEASE_MS = 1_000;
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** The status record of one message in memory, with KV-like revisions. */
function memoryStatuses() {
  let record: MessageStatus | undefined;
  let revision = 0;
  const leases: Array<{ readonly until: number; readonly at: number }> = [];
  const statuses = {
    claim(_id: string, claim: (current: MessageStatus | undefined) => MessageStatus, now = Date.now()) {
      record = claim(undefined);
      leases.push({ until: record.lease_until!, at: now });
      return Promise.resolve({ state: 'claimed' as const, record, revision: ++revision });
    },
    renewLease(r: MessageStatus, rev: number, leaseUntil: number) {
      if (rev !== revision) return Promise.resolve(undefined);
      record = { ...r, lease_until: leaseUntil };
      leases.push({ until: leaseUntil, at: Date.now() });
      return Promise.resolve(++revision);
    },
    replace(r: MessageStatus, rev: number) {
      if (rev !== revision) return Promise.reject(new Error('wrong last sequence'));
      record = r;
      return Promise.resolve(++revision);
    },
    /** Another delivery writes the record (a takeover): our revision is stale. */
    takeOver() {
      revision++;
    },
  };
  return { statuses, leases, get record() { return record; } };
}

const PENDING: MessageStatus = {
  message_id: 'm1', service_name: 'svc', method: 'm', trace_id: 't', created_at: new Date().toISOString(), replays: 0,
  state: 'PENDING', retry_count: 0, last_error: null, updated_at: new Date().toISOString(),
};

describe('status-record guard lease length (ADR 0027)', () => {
  it('claims and renews for the guard\'s lease length, and a run that lost its record looks again after it', async () => {
    const mem = memoryStatuses();
    const guard = statusRecordGuard(mem.statuses as unknown as MessageStatusStore, 60_000, { leaseMs: LEASE_MS, onLeaseLost: () => undefined, onError: () => undefined });
    let fail!: (err: Error) => void;
    let started = false;
    const result = guard.run({ messageId: 'm1', serviceName: 'svc', pending: () => PENDING }, () => {
      started = true;
      return new Promise((_resolve, reject) => (fail = reject));
    }, () => undefined);
    for (let i = 0; i < 100 && !started; i++) await tick();
    guard.sweep!(Date.now() + LEASE_MS / 2);
    await tick();
    mem.statuses.takeOver();
    guard.sweep!(Date.now() + LEASE_MS);
    await tick();
    fail(new Error('boom'));
    expect(await result).toEqual({ kind: 'busy', retryAfterMs: LEASE_MS });
    expect(mem.leases).toHaveLength(2); // the claim and one renewal; the second found it lost
    for (const { until, at } of mem.leases) {
      expect(until - at).toBeGreaterThanOrEqual(LEASE_MS);
      expect(until - at).toBeLessThan(LEASE_MS + 50);
    }
  });
});

describe('status-record guard: a record lost after the last renewal (ADR 0027 round 2)', () => {
  /** A claimed run whose handler ends when told; no sweep runs (the process stalls). */
  async function stalledRun(mem: ReturnType<typeof memoryStatuses>) {
    const lost: string[] = [];
    const guard = statusRecordGuard(mem.statuses as unknown as MessageStatusStore, 60_000, { leaseMs: LEASE_MS, onLeaseLost: (id) => void lost.push(id), onError: () => undefined });
    let settle!: (r: { response: unknown } | { error: Error }) => void;
    let started = false;
    const result = guard.run({ messageId: 'm1', serviceName: 'svc', pending: () => PENDING }, () => {
      started = true;
      return new Promise((resolve, reject) => (settle = (r) => ('error' in r ? reject(r.error) : resolve(r.response))));
    }, () => undefined);
    for (let i = 0; i < 100 && !started; i++) await tick();
    return { guard, lost, result, settle };
  }

  it('a succeeded run\'s outcome write fails its compare-and-set and is reported as a lost lease', async () => {
    const mem = memoryStatuses();
    const run = await stalledRun(mem);
    mem.statuses.takeOver();
    run.settle({ response: { ok: 1 } });
    const r = await run.result;
    if (r.kind !== 'processed') throw new Error(`expected processed, got ${r.kind}`);
    await expect(r.recordOutcome!({ ...PENDING, state: 'ACKNOWLEDGED', response: { ok: 1 } })).rejects.toThrow(/wrong last sequence/);
    expect(run.lost).toEqual(['m1']);
  });

  it('a failed run whose record moved on looks again instead of going to the retry or park path', async () => {
    const mem = memoryStatuses();
    const run = await stalledRun(mem);
    mem.statuses.takeOver();
    run.settle({ error: new Error('boom') });
    expect(await run.result).toEqual({ kind: 'busy', retryAfterMs: LEASE_MS });
    expect(run.lost).toEqual(['m1']);
  });

  it('a loss a renewal already reported is not reported again by the write', async () => {
    const mem = memoryStatuses();
    const run = await stalledRun(mem);
    mem.statuses.takeOver();
    run.guard.sweep!(Date.now() + LEASE_MS);
    await tick();
    run.settle({ error: new Error('boom') });
    expect(await run.result).toEqual({ kind: 'busy', retryAfterMs: LEASE_MS });
    expect(run.lost).toEqual(['m1']);
  });
});

describe('status-record guard: is the id held by another delivery? (ADR 0027 round 3)', () => {
  const heldBy = (record: MessageStatus | undefined) =>
    statusRecordGuard({ recorded: () => Promise.resolve(record) } as unknown as MessageStatusStore, 60_000, { leaseMs: LEASE_MS, onLeaseLost: () => undefined, onError: () => undefined }).held!('m1', 'svc');

  it('only while a non-terminal record\'s lease is ahead — read, never claimed', async () => {
    expect(await heldBy({ ...PENDING, lease_until: Date.now() + LEASE_MS })).toBe(true);
    expect(await heldBy({ ...PENDING, lease_until: Date.now() - 1 })).toBe(false); // lapsed: the holder is gone
    expect(await heldBy({ ...PENDING, lease_until: null })).toBe(false); // released after a failed attempt
    expect(await heldBy({ ...PENDING, state: 'ACKNOWLEDGED', lease_until: Date.now() + LEASE_MS })).toBe(false);
    expect(await heldBy(undefined)).toBe(false);
  });
});
