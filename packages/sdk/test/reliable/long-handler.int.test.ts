/**
 * Exactly-once calls whose handler runs about three times the ack timeout (ADR 0027, "exactly-once
 * calls"), on the real NATS and Redis: the receiver's in-flight sweep keeps the delivery from being
 * redelivered (`working()`) and renews the dedupe lease, so the handler runs once while the caller
 * re-sends, and a second copy of the id that reaches the stream meanwhile waits and is answered
 * from the one recorded response instead of taking the lapsed lease over and running beside it.
 *
 * The receivers use a 1 s ack timeout, so the lease is 1 s and the sweep runs every ~333 ms.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { HEADERS, NAMESPACE, encode, newMessageId } from '@aegis-ipc/protocol';
import { waitFor } from '@aegis-ipc/testing';
import { MessageStatusStore, type DedupeStore } from '@aegis-ipc/sdk';
import { reliableDedupeKey } from '../../src/reliable/dedupe-guard.js';
import { LEASE_MODES, slowServiceFixture } from './slow-service-fixture.js';

const ACK_TIMEOUT_MS = 1_000;
const HANDLER_MS = 3_200;

const fixture = slowServiceFixture('rdedupe');
const { runs, metric } = fixture;

describe.each(LEASE_MODES)('a handler slower than the ack timeout (%s)', (mode) => {
  const service = `slow-${mode.replace(' ', '-')}`;
  let store: DedupeStore | undefined;

  beforeAll(async () => {
    store = await fixture.serveSlow(service, mode, { handlerMs: HANDLER_MS, ackTimeoutMs: ACK_TIMEOUT_MS, maxRetries: 6 });
  });

  it('runs once while the caller re-sends, and the caller gets that run\'s result', async () => {
    const messageId = newMessageId();
    const redeliveriesBefore = await metric('ipc_messages_retried_total', service);
    const res = await fixture.caller.callReliable<{ run: number; by: string }>(service, 'slow', { x: 1 }, { messageId, ackTimeoutMs: ACK_TIMEOUT_MS, maxRetries: 6, timeoutMs: 20_000 });
    expect(res.run).toBe(1);
    expect(runs.get(messageId)).toBe(1);
    const status = await (await MessageStatusStore.bind(fixture.caller.nc)).get(messageId);
    // One delivery: the broker never handed the running call out again.
    expect(status).toMatchObject({ state: 'ACKNOWLEDGED', retry_count: 0, response: { run: 1, by: res.by } });
    expect(await metric('ipc_messages_retried_total', service)).toBe(redeliveriesBefore);
    expect(await metric('ipc_messages_dead_lettered_total', service)).toBe(0);
    expect(await metric('ipc_messages_dedupe_lease_lost_total', service)).toBe(0); // renewed all along
  });

  it('a second copy of the id arriving meanwhile waits and gets the one recorded response', async () => {
    const messageId = newMessageId();
    const duplicatesBefore = await metric('ipc_messages_duplicates_total', service);
    const call = fixture.caller.callReliable<{ run: number; by: string }>(service, 'slow', { x: 2 }, { messageId, ackTimeoutMs: ACK_TIMEOUT_MS, maxRetries: 6, timeoutMs: 20_000 });
    await waitFor(() => runs.get(messageId) === 1, { timeoutMs: 5_000 });
    // A copy the caller's publish check does not stop (say a client of another version): same
    // message id, its own stream message. It must not run the handler a second time.
    const h = natsHeaders();
    h.set(HEADERS.messageId, messageId);
    h.set(HEADERS.traceId, 'copy');
    await jetstream(fixture.caller.nc).publish(`${NAMESPACE}.reliable.${service}.slow.${messageId}`, encode({ x: 2 }), { headers: h });
    const res = await call;
    expect(res.run).toBe(1);
    // The copy is answered from the record once the handler has finished — or, without the
    // renewal, takes the lapsed lease over and runs the handler again.
    await waitFor(async () => runs.get(messageId) !== 1 || (await metric('ipc_messages_duplicates_total', service)) > duplicatesBefore, { timeoutMs: 8_000 });
    expect(runs.get(messageId)).toBe(1);
    expect(await metric('ipc_messages_duplicates_total', service)).toBe(duplicatesBefore + 1);
    const status = await (await MessageStatusStore.bind(fixture.caller.nc)).get(messageId);
    expect(status).toMatchObject({ state: 'ACKNOWLEDGED', response: { run: 1, by: res.by } });
    expect(await metric('ipc_messages_dead_lettered_total', service)).toBe(0);
    expect(await metric('ipc_messages_dedupe_lease_lost_total', service)).toBe(0);
  });

  it('a run whose record another copy completed meanwhile counts a lost lease and answers with the recorded response', async () => {
    const messageId = newMessageId();
    const lostBefore = await metric('ipc_messages_dedupe_lease_lost_total', service);
    const call = fixture.caller.callReliable<{ run: number }>(service, 'slow', { x: 3 }, { messageId, ackTimeoutMs: ACK_TIMEOUT_MS, maxRetries: 6, timeoutMs: 20_000 });
    await waitFor(() => runs.get(messageId) === 1, { timeoutMs: 5_000 });
    // What a copy that took the lapsed lease over and finished would leave (say this process
    // stalled past its lease): the id completed with another response.
    if (store !== undefined) {
      await store.complete(reliableDedupeKey(service, messageId), { run: 0 }, 60 * 60 * 1000);
    } else {
      const statuses = await MessageStatusStore.bind(fixture.caller.nc);
      const current = await statuses.get(messageId);
      expect(current).toMatchObject({ state: 'PENDING' }); // claimed: a caller-chosen id
      await statuses.put({ ...current!, state: 'ACKNOWLEDGED', response: { run: 0 }, lease_until: null });
    }
    // The next renewal (within a sweep or two, long before the handler ends) finds it lost.
    await waitFor(async () => (await metric('ipc_messages_dedupe_lease_lost_total', service)) > lostBefore, { timeoutMs: 2_000 });
    expect((await call).run).toBe(0); // the recorded answer, not this run's
    expect(runs.get(messageId)).toBe(1);
    expect(await metric('ipc_messages_dedupe_lease_lost_total', service)).toBe(lostBefore + 1);
    expect(await (await MessageStatusStore.bind(fixture.caller.nc)).get(messageId)).toMatchObject({ state: 'ACKNOWLEDGED', response: { run: 0 } });
  });
});
