/**
 * OBS-2 for exactly-once calls (issue 7 item 1): with a tracer provider registered, one reliable
 * call is one trace — the caller's `ipc.client.call_reliable` and, as its children through the
 * JetStream message headers, one `ipc.reliable.deliver` span per delivery attempt with the
 * message id, the delivery count and what became of it. Here the first delivery fails
 * (retryable) and the broker's redelivery succeeds: both attempts are in the caller's trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import { installTestTracing, type TestTracing } from '@aegis-ipc/testing/tracing';
import { pino } from 'pino';
import { AegisError } from '@aegis-ipc/protocol';
import { connectTestNats, deleteBuckets, deleteStreams, uniqueName, waitFor } from '@aegis-ipc/testing';
import { MESSAGE_STATUS_BUCKET, MessageStatusStore, RELIABLE_DLQ_STREAM, RELIABLE_STREAM, ReliableReceiver, tracingActive, type AegisClient } from '@aegis-ipc/sdk';
import { routerHarness } from '../router-harness.js';

let tracing: TestTracing;
const harness = routerHarness();
let client: AegisClient;
let receiver: ReliableReceiver;
const service = uniqueName('traced');
let deliveries = 0;

beforeAll(async () => {
  expect(tracingActive()).toBe(false);
  tracing = installTestTracing();
  await harness.start();
  ({ client } = await harness.connect());
  const instance = await client.register(service, `${service}-1`);
  instance.handle('once-flaky', () => {
    deliveries++;
    if (deliveries === 1) throw new AegisError('STORAGE_FAILURE', 'first attempt fails');
    return { ok: true };
  });
  receiver = await ReliableReceiver.start(instance, {
    idempotency: { statusRecord: true }, ackTimeoutMs: 1_000, maxRetries: 2, backoffInitialMs: 50, backoffMaxMs: 100, logger: pino({ level: 'silent' }),
  });
});

afterAll(async () => {
  await receiver.close();
  await harness.cleanup();
  const nc = await connectTestNats();
  await deleteStreams(nc, [RELIABLE_STREAM, RELIABLE_DLQ_STREAM]);
  await deleteBuckets(nc, [MESSAGE_STATUS_BUCKET]);
  await nc.close();
  await tracing.uninstall();
});

describe('reliable-call tracing', () => {
  it('puts the call and every delivery attempt (failed, then acknowledged) in one trace', async () => {
    tracing.exporter.reset();
    const messageId = uniqueName('msg');
    expect(await client.callReliable(service, 'once-flaky', {}, { messageId, ackTimeoutMs: 3_000 })).toEqual({ ok: true });
    const delivers = () => tracing.exporter.getFinishedSpans().filter((s) => s.name === 'ipc.reliable.deliver');
    await waitFor(() => delivers().length >= 2 && tracing.exporter.getFinishedSpans().some((s) => s.name === 'ipc.client.call_reliable'), { what: 'call and delivery spans' });

    const call = tracing.exporter.getFinishedSpans().find((s) => s.name === 'ipc.client.call_reliable')!;
    expect(call.kind).toBe(SpanKind.CLIENT);
    const traceId = call.spanContext().traceId;
    expect(call.attributes).toMatchObject({ 'ipc.message_id': messageId, 'ipc.trace_id': traceId, 'ipc.service_name': service });
    expect(call.events.map((e) => [e.name, e.attributes?.['ipc.reliable.ack_status']])).toContainEqual(['ipc.reliable.ack_received', 'success']);

    const attempts = delivers().sort((a, b) => Number(a.attributes['ipc.reliable.delivery_count']) - Number(b.attributes['ipc.reliable.delivery_count']));
    expect(attempts).toHaveLength(2);
    for (const span of attempts) {
      expect(span.kind).toBe(SpanKind.CONSUMER);
      expect(span.spanContext().traceId).toBe(traceId);
      expect(span.parentSpanContext?.spanId).toBe(call.spanContext().spanId);
      expect(span.attributes['ipc.message_id']).toBe(messageId);
    }
    expect(attempts.map((s) => [s.attributes['ipc.reliable.delivery_count'], s.attributes['ipc.reliable.outcome']])).toEqual([
      [1, 'failed'],
      [2, 'acknowledged'],
    ]);
    // The AegisIPC trace id recorded with the message is the OpenTelemetry trace.
    expect((await (await MessageStatusStore.bind(client.nc)).get(messageId))?.trace_id).toBe(traceId);
  });
});
