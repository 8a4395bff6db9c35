/**
 * QoS 2 on NATS with the lazy claim (ADR 0026): the first delivery of an SDK-made id runs before
 * claiming it while it is young, claims late when its handler outlives the grace, and every
 * other copy (a redelivery, a caller's republish after the window, a replay) claims first — so
 * a copy never runs alongside, or after, a run that did not claim.
 *
 * The buses here use a 1 s duplicate window and a 3 s ack_wait (and lease), so the grace is 500 ms.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Kvm, type KV } from '@nats-io/kv';
import { waitFor } from '@aegis-ipc/testing';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { AegisError, decode, encode } from '@aegis-ipc/protocol';
import type { EventBus } from '@aegis-ipc/sdk';
import { Harness, sleep } from './helpers.js';

/**
 * A publish attempt is 500 ms and not retried, so a 1 s duplicate window is allowed. The lease
 * (the larger of ack_wait and claimIdle, 3 s) outlasts the slow handlers here; since ADR 0027 it
 * would also be renewed (lease-renewal.int.test.ts proves that part).
 */
const LAZY = { defaultTransport: 'nats', publishTimeoutMs: 500, publishRetries: 0, duplicateWindowMs: 1_000, ackWaitMs: 3_000, claimIdleMs: 3_000 } as const;

describe('QoS 2 lazy claim on nats (ADR 0026)', () => {
  let h: Harness;
  let bus: EventBus;
  let kv: KV | undefined;

  beforeEach(async () => {
    kv = undefined;
    h = await Harness.open();
    bus = await h.bus(LAZY);
  });
  afterEach(() => h.cleanup());

  /** The dedupe record of `id` for `group` on `topic`: 'none', 'lease' or 'done'. */
  async function recordOf(topic: string, group: string, id: string): Promise<string> {
    kv ??= await new Kvm(h.nc).open(`${h.names.stream}_DEDUPE`);
    const entry = await kv.get(`${topic}.${group}.${id}`);
    return entry === null || entry.operation !== 'PUT' ? 'none' : String((decode(entry.value) as { s: unknown }).s);
  }

  it('claims late when the first run outlives the grace, so a copy stored after the window waits for it and is skipped', async () => {
    const runs: number[] = [];
    await bus.subscribe(
      'orders.slow',
      async (m) => {
        runs.push(m.deliveryCount);
        await sleep(2_500);
      },
      { qos: 2, group: 'g', concurrency: 4 },
    );
    const first = await bus.publish('orders.slow', { n: 1 }, { qos: 2 });
    await waitFor(() => runs.length === 1, { what: 'the first run' });
    expect(await recordOf('orders.slow', 'g', first.messageId)).toBe('none'); // running unclaimed
    await sleep(1_200); // past the 1 s duplicate window: the stream now stores a copy of the id
    expect(await recordOf('orders.slow', 'g', first.messageId)).toBe('lease'); // claimed late
    const again = await bus.publish('orders.slow', { n: 1 }, { qos: 2, messageId: first.messageId });
    expect(again.duplicate).toBe(false);
    // The copy finds the lease (busy), comes back after it (3 s), finds the record and is skipped.
    await sleep(4_500);
    expect(runs).toEqual([1]);
    expect(await recordOf('orders.slow', 'g', first.messageId)).toBe('done');
  });

  it('a redelivery claims before it runs, even while the event is young', async () => {
    const seen: string[] = [];
    await bus.subscribe(
      'orders.retry',
      async (m) => {
        seen.push(`${m.deliveryCount}:${await recordOf('orders.retry', 'g', m.messageId)}`);
        if (m.deliveryCount === 1) throw new Error('the first attempt fails');
      },
      { qos: 2, group: 'g', backoff: [0] },
    );
    const { messageId } = await bus.publish('orders.retry', { n: 1 }, { qos: 2 });
    await waitFor(() => seen.length === 2, { what: 'the first attempt and its retry' });
    // The failed first attempt held nothing (nothing to release); the retry holds the lease.
    expect(seen).toEqual(['1:none', '2:lease']);
    await waitFor(async () => (await recordOf('orders.retry', 'g', messageId)) === 'done', { what: 'the completion record' });
  });

  it('a caller id claims first: only an SDK-made id runs unclaimed', async () => {
    const seen: string[] = [];
    await bus.subscribe('orders.named', async (m) => void seen.push(await recordOf('orders.named', 'g', m.messageId)), { qos: 2, group: 'g' });
    await bus.publish('orders.named', { n: 1 }, { qos: 2, messageId: `order-1-${h.names.stream}` });
    await bus.publish('orders.named', { n: 2 }, { qos: 2 });
    await waitFor(() => seen.length === 2, { what: 'both events' });
    expect(seen).toEqual(['lease', 'none']);
  });

  it('a replay made while another group still runs the original unclaimed waits, then is skipped by that group', async () => {
    const runs = { shipping: 0, billing: 0 };
    await bus.subscribe(
      'orders.split',
      async () => {
        runs.shipping++;
        await sleep(800); // longer than the grace: claims late, then completes
      },
      { qos: 2, group: 'shipping', concurrency: 4 },
    );
    await bus.subscribe(
      'orders.split',
      () => {
        runs.billing++;
        throw new AegisError('CONFIG_INVALID', 'billing refuses it', { retryable: false });
      },
      { qos: 2, group: 'billing' },
    );
    const { messageId } = await bus.publish('orders.split', { n: 1 }, { qos: 2 });
    await waitFor(async () => (await bus.deadLetters()).length === 1, { what: 'billing dead-lettered' });
    const [dl] = await bus.deadLetters();
    expect(dl?.messageId).toBe(messageId);
    // Replayed at once: shipping's first run is still going (and was unclaimed at first).
    expect(runs.shipping).toBe(1);
    expect(await bus.replay(dl!.id)).toBe(true);
    await waitFor(() => runs.billing === 2, { timeoutMs: 10_000, what: 'billing runs the replay' });
    await sleep(1_500);
    expect(runs.shipping).toBe(1); // the replay is a duplicate for the group that completed it
  });

  it('a later replay of an SDK-made id claims first, so the group that completed the original skips it', async () => {
    const runs = { shipping: 0, billing: 0 };
    await bus.subscribe('orders.later', () => void runs.shipping++, { qos: 2, group: 'shipping' });
    await bus.subscribe(
      'orders.later',
      () => {
        runs.billing++;
        throw new AegisError('CONFIG_INVALID', 'billing refuses it', { retryable: false });
      },
      { qos: 2, group: 'billing' },
    );
    await bus.publish('orders.later', { n: 1 }, { qos: 2 });
    await waitFor(async () => runs.shipping === 1 && (await bus.deadLetters()).length === 1, { what: 'shipping done, billing dead-lettered' });
    await sleep(1_200); // past twice the grace: the replay has nothing to wait for
    const [dl] = await bus.deadLetters();
    expect(await bus.replay(dl!.id)).toBe(true);
    await waitFor(() => runs.billing === 2, { what: 'billing runs the replay' });
    await sleep(500);
    // The replay is young and delivered once, but it is not the first copy of its id.
    expect(runs.shipping).toBe(1);
  });

  it('a copy keeping the mark but stored under another Nats-Msg-Id (an older SDK\'s replay) claims first', async () => {
    let runs = 0;
    await bus.subscribe('orders.old', () => void runs++, { qos: 2, group: 'g' });
    const { messageId } = await bus.publish('orders.old', { n: 1 }, { qos: 2 });
    await waitFor(async () => (await recordOf('orders.old', 'g', messageId)) === 'done', { what: 'the original completed' });
    // What a replay of a dead letter written by an SDK before ADR 0026 looks like: the mark kept.
    const headers = natsHeaders();
    for (const [name, value] of [['Ipc-Message-Id', messageId], ['Ipc-Qos', '2'], ['Ipc-Made-Id', '1']] as const) headers.set(name, value);
    await jetstream(h.nc).publish(`${h.names.subjectPrefix}.orders.old`, encode({ n: 1 }), { headers, msgID: `replay-old-${messageId}` });
    await sleep(800);
    expect(runs).toBe(1);
  });

  it('a caller\'s republish of an id inside the window is refused by the stream at QoS 1 as at QoS 2', async () => {
    const { messageId } = await bus.publish('orders.echo', { n: 1 }, { qos: 2 });
    expect((await bus.publish('orders.echo', { n: 1 }, { qos: 1, messageId })).duplicate).toBe(true);
    expect((await bus.publish('orders.echo', { n: 1 }, { qos: 2, messageId })).duplicate).toBe(true);
  });

  it('bus.close() returns after the completion records (written without a broker ack) reached the server', async () => {
    let handled = 0;
    await bus.subscribe('orders.closing', () => void handled++, { qos: 2, group: 'g', concurrency: 8 });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await bus.publish('orders.closing', { i }, { qos: 2 })).messageId);
    await waitFor(() => handled === 20, { what: 'all handled' });
    await bus.close();
    const states = await Promise.all(ids.map((id) => recordOf('orders.closing', 'g', id)));
    expect(states.filter((s) => s !== 'done')).toEqual([]);
  });
});
