/**
 * QoS 2 lease renewal (ADR 0027) on the real NATS and Redis: a handler running about three times
 * the lease keeps its id's lease (the subscription's sweep renews it), so a second copy of the
 * id published meanwhile — a caller republishing its messageId — waits and is then skipped,
 * instead of taking the lapsed lease over and running beside it.
 *
 * The buses use a 1 s ack_wait and claimIdleMs, so the lease is 1 s (sweeps every ~333 ms), and
 * a 1 s duplicate window so the copy is stored at all.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import { RESP_TYPES } from 'redis';
import { decode } from '@aegis-ipc/protocol';
import { waitFor } from '@aegis-ipc/testing';
import type { EventBus, TransportName } from '@aegis-ipc/sdk';
import { Harness, sleep } from './helpers.js';

const LEASE_MS = 1_000;
const OPTIONS = { publishTimeoutMs: 500, publishRetries: 0, duplicateWindowMs: 1_000, ackWaitMs: LEASE_MS, claimIdleMs: LEASE_MS } as const;

describe.each(['nats', 'redis'] as const)('QoS 2 lease renewal on %s (ADR 0027)', (transport: TransportName) => {
  let h: Harness;
  let bus: EventBus;

  beforeEach(async () => {
    h = await Harness.open();
    bus = await h.bus({ ...OPTIONS, defaultTransport: transport });
  });
  afterEach(() => h.cleanup());

  /** The dedupe record of `id` for `group` on `topic`: 'none', 'lease' or 'done'. */
  async function recordOf(topic: string, group: string, id: string): Promise<string> {
    const key = `${topic}.${group}.${id}`;
    if (transport === 'nats') {
      const entry = await (await new Kvm(h.nc).open(`${h.names.stream}_DEDUPE`)).get(key);
      return entry === null || entry.operation !== 'PUT' ? 'none' : String((decode(entry.value) as { s: unknown }).s);
    }
    const raw = await h.redis.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).get(`${h.names.redisKeyPrefix}:dd:${key}`);
    return raw === null ? 'none' : String((decode(raw) as { s: unknown }).s);
  }

  it('a handler running ~3× the lease keeps it: a copy of its id published meanwhile is skipped, the handler runs once', async () => {
    const runs: string[] = [];
    await bus.subscribe(
      'orders.long',
      async (m) => {
        runs.push(`${m.messageId}#${m.deliveryCount}`);
        await sleep(3 * LEASE_MS + 200);
      },
      // A waiting copy looks again every lease (Redis: every half claimIdleMs), a delivery each.
      { qos: 2, group: 'g', concurrency: 4, maxDeliver: 10 },
    );
    const messageId = `order-${h.names.stream}`;
    await bus.publish('orders.long', { n: 1 }, { qos: 2, messageId });
    await waitFor(() => runs.length === 1, { what: 'the first run' });
    await sleep(1_200); // past the duplicate window (and the first lease): the copy is stored
    expect((await bus.publish('orders.long', { n: 1 }, { qos: 2, messageId })).duplicate).toBe(false);
    await sleep(800);
    expect(await recordOf('orders.long', 'g', messageId)).toBe('lease'); // ~2 leases in, still held
    await waitFor(async () => (await recordOf('orders.long', 'g', messageId)) === 'done', { timeoutMs: 5_000, what: 'the completion' });
    // Long enough for the copy to come back (a lease at most) and meet the record.
    await sleep(2 * LEASE_MS);
    expect(runs).toEqual([`${messageId}#1`]);
    expect(await bus.deadLetters({ transport })).toEqual([]);
    const metrics = await bus.options.registry!.getSingleMetric('aegis_events_duplicates_total')!.get();
    expect(metrics.values.reduce((n, v) => n + v.value, 0)).toBe(1);
  });

  it('a handler still running when its subscription closes keeps its lease until it finishes', async () => {
    let started = false;
    const sub = await bus.subscribe(
      'orders.closing',
      async () => {
        started = true;
        await sleep(2.5 * LEASE_MS);
      },
      { qos: 2, group: 'g' },
    );
    const messageId = `closing-${h.names.stream}`;
    await bus.publish('orders.closing', { n: 1 }, { qos: 2, messageId });
    await waitFor(() => started, { what: 'the run' });
    const closed = sub.close(); // waits for the handler
    await sleep(1.8 * LEASE_MS);
    expect(await recordOf('orders.closing', 'g', messageId)).toBe('lease');
    await closed;
    expect(await recordOf('orders.closing', 'g', messageId)).toBe('done');
  });

  it('the sweep renews only running handlers: a finished one leaves its completion record alone', async () => {
    let handled = 0;
    await bus.subscribe(
      'orders.short',
      async () => {
        await sleep(LEASE_MS / 2); // claimed, renewed at most once, then done
        handled++;
      },
      { qos: 2, group: 'g' },
    );
    const messageId = `short-${h.names.stream}`;
    await bus.publish('orders.short', { n: 1 }, { qos: 2, messageId });
    await waitFor(() => handled === 1, { what: 'the run' });
    await sleep(2 * LEASE_MS); // six sweeps
    expect(await recordOf('orders.short', 'g', messageId)).toBe('done');
  });
});
