/**
 * OBS-2 "outbox rows → relay → consumer": with a tracer provider registered, a command written
 * inside a request span, published by the relay and read by a JetStream consumer is ONE trace:
 * request → ipc.outbox.write → ipc.outbox.relay_publish (PRODUCER) → the consumer's span, linked
 * through the traceparent stored with the row and the one the relay publishes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, trace } from '@opentelemetry/api';
import { installTestTracing, type TestTracing } from '@aegis-ipc/testing/tracing';
import { jetstream, type JsMsg } from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
import { extractTraceContext } from '@aegis-ipc/sdk';
import { NatsJetStreamSink, OutboxRelay, type OutboxWriter } from '../../src/index.js';
import { tracingActive } from '@aegis-ipc/sdk';
import { createOutboxFixture, submitOne, type OutboxFixture } from '../fixtures/outbox-fixture.js';

let tracing: TestTracing;
let fx: OutboxFixture;
let writer: OutboxWriter;
let relay: OutboxRelay;

beforeAll(async () => {
  expect(tracingActive()).toBe(false);
  tracing = installTestTracing();
  fx = await createOutboxFixture();
  writer = fx.writer();
  relay = new OutboxRelay(fx.db, await NatsJetStreamSink.create({ stream: fx.stream, topics: [fx.topic] }, fx.nc));
});
afterAll(async () => {
  await fx.close();
  await tracing.uninstall();
});

describe('outbox tracing', () => {
  it('links request, write, relay publish and consumer spans in one trace', async () => {
    expect(tracingActive()).toBe(true);
    tracing.exporter.reset();
    const session = randomUUID();
    const tracer = trace.getTracer('test');
    const written = await tracer.startActiveSpan('test.request', async (span) => {
      try {
        return await submitOne(writer, session, 1);
      } finally {
        span.end();
      }
    });
    const event = written.events[0]!;
    expect(await relay.runBatch()).toMatchObject({ sent: 1 });

    // A consumer reads the message and continues the trace from its headers.
    const consumer = await jetstream(fx.nc).consumers.get(fx.stream);
    let msg: JsMsg | undefined;
    for await (const m of await consumer.fetch({ max_messages: 1, expires: 5_000 })) msg = m;
    expect(msg?.headers?.get('Nats-Msg-Id')).toBe(event.event_id);
    tracer.startSpan('test.consume', { kind: SpanKind.CONSUMER }, extractTraceContext(msg?.headers)).end();

    const spans = tracing.exporter.getFinishedSpans();
    const byName = new Map(spans.map((s) => [s.name, s]));
    const request = byName.get('test.request')!;
    const write = byName.get('ipc.outbox.write')!;
    const publish = byName.get('ipc.outbox.relay_publish')!;
    const consume = byName.get('test.consume')!;
    const traceId = request.spanContext().traceId;
    for (const s of [write, publish, consume]) expect(s.spanContext().traceId).toBe(traceId);
    expect(write.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(publish.parentSpanContext?.spanId).toBe(write.spanContext().spanId);
    expect(consume.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
    expect(publish.kind).toBe(SpanKind.PRODUCER);
    expect(publish.attributes).toMatchObject({
      'ipc.outbox.event_id': event.event_id,
      'ipc.outbox.event_type': 'Test.Session.StageConfirmed',
      'ipc.outbox.aggregate_id': session,
      'ipc.outbox.topic': fx.topic,
      'ipc.outbox.attempt': 1,
      'messaging.system': 'nats',
    });
    expect(write.attributes).toMatchObject({
      'ipc.outbox.operation': 'submit',
      'ipc.outbox.command_id': written.commandId,
      'ipc.outbox.command_status': 'COMPLETED',
      'ipc.outbox.event_count': 1,
    });
    // The row stores the write span's context (what the relay's span hangs under) …
    const [row] = await fx.db.query<{ headers: Record<string, string> }>('SELECT headers FROM event_outbox WHERE event_id = $1', [event.event_id]);
    expect(row?.headers.traceparent).toBe(`00-${traceId}-${write.spanContext().spanId}-01`);
    // … and the message carries the relay span's.
    expect(msg?.headers?.get('traceparent')).toBe(`00-${traceId}-${publish.spanContext().spanId}-01`);
  });

  it('an explicit traceparent (e.g. from an HTTP header) is the write span parent; a failed publish is an error span', async () => {
    tracing.exporter.reset();
    const parentTraceId = 'ab'.repeat(16);
    const res = await writer.submitCommand(
      {
        aggregateType: 'TEST_SESSION',
        sessionId: randomUUID(),
        commandType: 'ConfirmStage',
        correlationId: 'c',
        causationId: 'r',
        trace: { traceparent: `00-${parentTraceId}-${'cd'.repeat(8)}-01` },
      },
      () => ({ outcome: 'completed', events: [{ eventType: 'Test.Session.StageConfirmed' }] }),
    );
    const failing = new OutboxRelay(fx.db, { name: 'broken', publish: () => Promise.reject(new Error('broker down')), close: async () => {} });
    expect(await failing.runBatch()).toMatchObject({ retried: 1 });
    const spans = tracing.exporter.getFinishedSpans();
    const write = spans.find((s) => s.name === 'ipc.outbox.write')!;
    const publish = spans.find((s) => s.name === 'ipc.outbox.relay_publish')!;
    expect(write.spanContext().traceId).toBe(parentTraceId);
    expect(write.parentSpanContext?.spanId).toBe('cd'.repeat(8));
    expect(publish.parentSpanContext?.spanId).toBe(write.spanContext().spanId);
    expect(publish.status.code).toBe(2); // SpanStatusCode.ERROR
    expect(publish.attributes).toMatchObject({ 'ipc.outbox.event_id': res.events[0]?.event_id, 'error.type': 'Error', 'messaging.system': 'broken' });
  });
});
