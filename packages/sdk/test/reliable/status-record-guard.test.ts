/**
 * The status-record guard's lease (ADR 0027, "exactly-once calls", round 2): one length, the
 * guard's, for the claim's `lease_until`, every renewal's and the look-again delay of a run that
 * lost its record, so the claim and the renewal can never disagree.
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
