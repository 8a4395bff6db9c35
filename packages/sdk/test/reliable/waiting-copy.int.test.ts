/**
 * A copy of an exactly-once call's id (its own stream message, published outside callReliable's
 * check) that waits `busy` behind a running handler until its deliveries run out (ADR 0027,
 * round 3), on the real NATS and Redis: the copy is dropped — it parks nothing, writes no status
 * and sends no ACK — so the caller gets the one success answer of the run, the id ends
 * ACKNOWLEDGED, and no second, contradicting ACK goes out. Before round 3 the copy parked the id
 * FAILED and answered ACK_TIMEOUT "retries exhausted" while the handler still ran.
 *
 * 1 s ack timeout (the lease), `maxRetries: 1` on the receiver (two deliveries and the spare), a
 * 5 s handler: the copy's spare delivery comes about 2 s into the run. A copy published already
 * past its ttl (`Ipc-Expires-At`) is dropped the same way at its first delivery.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { HEADERS, NAMESPACE, ackSubject, decode, encode, newMessageId } from '@aegis-ipc/protocol';
import { waitFor } from '@aegis-ipc/testing';
import { MessageStatusStore } from '@aegis-ipc/sdk';
import { RELIABLE_HEADERS } from '../../src/reliable/reliable-headers.js';
import { LEASE_MODES, slowServiceFixture } from './slow-service-fixture.js';

const ACK_TIMEOUT_MS = 1_000;
const HANDLER_MS = 5_000;

const fixture = slowServiceFixture('rcopy');
const { runs, metric } = fixture;

describe.each(LEASE_MODES)('a copy that runs out of deliveries behind a running handler (%s)', (mode) => {
  const service = `copy-${mode.replace(' ', '-')}`;

  beforeAll(async () => {
    await fixture.serveSlow(service, mode, { handlerMs: HANDLER_MS, ackTimeoutMs: ACK_TIMEOUT_MS, maxRetries: 1 });
  });

  /** The caller's call, a copy of its id published while the handler runs, and what must follow. */
  async function copyBehindRunningHandler(copyHeaders: Record<string, string>): Promise<void> {
    const messageId = newMessageId();
    const droppedBefore = await metric('ipc_messages_copies_dropped_total', service);
    const acks: Array<{ status: string; duplicate: boolean }> = [];
    const sub = fixture.caller.nc.subscribe(ackSubject(messageId), { callback: (_err, m) => void acks.push(decode(m.data) as { status: string; duplicate: boolean }) });
    try {
      let settled = false;
      const call = fixture.caller
        .callReliable<{ run: number }>(service, 'slow', { x: 1 }, { messageId, ackTimeoutMs: ACK_TIMEOUT_MS, maxRetries: 6, timeoutMs: 20_000 })
        .finally(() => (settled = true));
      call.catch(() => undefined); // awaited below; an early failure is asserted, not left unhandled
      await waitFor(() => runs.get(messageId) === 1, { timeoutMs: 5_000 });
      // The copy: same message id, its own stream message, no Ipc-Ack-To.
      const h = natsHeaders();
      h.set(HEADERS.messageId, messageId);
      h.set(HEADERS.traceId, 'copy');
      for (const [k, v] of Object.entries(copyHeaders)) h.set(k, v);
      await jetstream(fixture.caller.nc).publish(`${NAMESPACE}.reliable.${service}.slow.${messageId}`, encode({ x: 1 }), { headers: h });
      // Its deliveries run out (busy at each look), or it has expired, while the handler still runs.
      await waitFor(async () => settled || (await metric('ipc_messages_copies_dropped_total', service)) > droppedBefore, { timeoutMs: 4_500 });
      expect(settled).toBe(false); // the caller was not answered by the copy (it used to get ACK_TIMEOUT here)
      expect(await metric('ipc_messages_copies_dropped_total', service)).toBe(droppedBefore + 1);
      const res = await call;
      expect(res.run).toBe(1);
      expect(runs.get(messageId)).toBe(1);
      const status = await (await MessageStatusStore.bind(fixture.caller.nc)).get(messageId);
      expect(status).toMatchObject({ state: 'ACKNOWLEDGED', response: { run: 1 }, dlq_seq: null });
      // Any later, contradicting ACK (a park's failure, a second completion) would come within a
      // lease or two of the end; none does.
      await new Promise((r) => setTimeout(r, 2 * ACK_TIMEOUT_MS));
      expect(acks).toEqual([expect.objectContaining({ status: 'success', duplicate: false })]);
      expect(await metric('ipc_messages_dead_lettered_total', service)).toBe(0);
      expect(await (await MessageStatusStore.bind(fixture.caller.nc)).get(messageId)).toMatchObject({ state: 'ACKNOWLEDGED', response: { run: 1 } });
    } finally {
      sub.unsubscribe();
    }
  }

  it('is dropped when its deliveries run out: one run, one success ACK, ACKNOWLEDGED, nothing parked', () => copyBehindRunningHandler({}));

  // Same rule for a copy whose own ttl ran out: EXPIRED beside the running handler was the same
  // contradiction (its first delivery already past the ttl).
  it('is dropped when it expired: no EXPIRED, no failure ACK beside the running handler', () =>
    copyBehindRunningHandler({ [RELIABLE_HEADERS.expiresAt]: String(Date.now() - 1) }));
});
