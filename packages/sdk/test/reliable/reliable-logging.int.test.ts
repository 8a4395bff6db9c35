/**
 * SPEC OBS-3 for exactly-once calls: a call answered from its record logs the hit with the call's
 * `message_id` and `trace_id` — on the receiver (ACK lost, the redelivery is answered from the
 * record: `message_retry`, `dedupe_hit`, `message_state` with `duplicate`) and on the caller (a
 * second call of an acknowledged id: `status_acknowledged`). Both idempotency modes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { TEST_NATS_URL, captureLogs, waitFor } from '@aegis-ipc/testing';
import { newMessageId, newTraceId } from '@aegis-ipc/protocol';
import { KvDedupeStore, ReliableReceiver, connect, type AegisClient, type Idempotency } from '@aegis-ipc/sdk';
import { startSystem, type System } from './helpers.js';

let system: System;
const receivers: ReliableReceiver[] = [];
const clients: AegisClient[] = [];

beforeAll(async () => {
  system = await startSystem();
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await Promise.all(clients.map((c) => c.close()));
  await system.cleanup();
});

describe.each(['statusRecord', 'store'] as const)('exactly-once call logs (%s)', (mode) => {
  it('an ACK lost on the first delivery: the redelivery answered from the record logs dedupe_hit with message_id and trace_id; a second call logs status_acknowledged', async () => {
    const receiverLogs = captureLogs();
    const callerLogs = captureLogs();
    const service = `logged-${mode}`;
    // No logger for the receiver: it logs to its client's (ReliableReceiverOptions.logger's default).
    const server = await connect({ servers: TEST_NATS_URL, logger: pino({ level: 'debug' }, receiverLogs.stream) });
    const caller = await connect({ servers: TEST_NATS_URL, logger: pino({ level: 'debug' }, callerLogs.stream) });
    clients.push(server, caller);
    const idempotency: Idempotency =
      mode === 'store' ? { store: await KvDedupeStore.open(server.nc, { bucket: system.dedupeBucket, ttlMs: 60_000 }) } : { statusRecord: true };
    const instance = await server.register(service, `${service}-1`);
    let runs = 0;
    instance.handle('add', (params) => {
      runs++;
      return { sum: Number(params.a) + Number(params.b) };
    });
    receivers.push(
      await ReliableReceiver.start(instance, {
        idempotency, ackTimeoutMs: 1_000, maxRetries: 2, backoffInitialMs: 100, backoffMaxMs: 200, registry: new Registry(),
        // The first delivery's broker ack and EO-2 ACK are lost: the broker redelivers it.
        beforeAck: (_id, delivery) => (delivery === 1 ? 'drop' : undefined),
      }),
    );
    const messageId = newMessageId();
    const traceId = newTraceId();
    const ids = { message_id: messageId, trace_id: traceId };

    expect(await caller.callReliable(service, 'add', { a: 2, b: 3 }, { messageId, traceId, ackTimeoutMs: 1_500 })).toEqual({ sum: 5 });
    await waitFor(() => receiverLogs.withEvent('dedupe_hit').length === 1, { timeoutMs: 20_000, what: 'the redelivery answered from the record' });
    expect(runs).toBe(1);
    expect(receiverLogs.withEvent('dedupe_miss')).toEqual([expect.objectContaining({ ...ids, level: 20 })]);
    expect(receiverLogs.withEvent('ack_dropped')).toEqual([expect.objectContaining({ ...ids, level: 40 })]);
    expect(receiverLogs.withEvent('message_retry')).toEqual([expect.objectContaining({ ...ids, level: 30, delivery: 2 })]);
    expect(receiverLogs.withEvent('dedupe_hit')).toEqual([expect.objectContaining({ ...ids, level: 30, delivery: 2 })]);
    await waitFor(() => receiverLogs.withEvent('message_state').length === 1, { what: 'the duplicate acknowledged' });
    expect(receiverLogs.withEvent('message_state')).toEqual([expect.objectContaining({ ...ids, level: 20, state: 'ACKNOWLEDGED', duplicate: true })]);

    // The caller already knows the answer: a second call with the id is answered from its status.
    expect(await caller.callReliable(service, 'add', { a: 2, b: 3 }, { messageId, traceId })).toEqual({ sum: 5 });
    expect(callerLogs.withEvent('status_acknowledged')).toEqual([expect.objectContaining({ ...ids, service_name: service, method: 'add', level: 20 })]);
    expect(callerLogs.withEvent('ack_received')[0]).toMatchObject({ ...ids, duplicate: true });
    expect(runs).toBe(1);
    // Every line of the receiver about this call names it.
    const aboutCall = receiverLogs.records().filter((r) => r['message_id'] === messageId);
    expect(aboutCall.every((r) => r['trace_id'] === traceId)).toBe(true);
  });
});
