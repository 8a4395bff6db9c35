/**
 * Issue 7 item 1 for events: with a tracer provider registered, a publish is an
 * `ipc.event.publish` PRODUCER span whose context travels in the message, and every delivery is
 * an `ipc.event.process` CONSUMER span child of it — on NATS and on Redis. With no provider
 * (the default) no trace header is added. An external publisher's `traceparent` (the outbox
 * relay) is honoured too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, context, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { installTestTracing, type TestTracing } from '@aegis-ipc/testing/tracing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { encode } from '@aegis-ipc/protocol';
import { tracingActive, type EventBus, type TransportName } from '@aegis-ipc/sdk';
import { Harness, sleep } from './helpers.js';

let tracing: TestTracing;
let harness: Harness;
let bus: EventBus;

beforeAll(async () => {
  harness = await Harness.open();
  bus = await harness.bus({ redisMaxLen: 1_000 });
});
afterAll(async () => {
  await harness.cleanup();
  await tracing.uninstall();
});

/** The raw stored headers of the last event on `topic` (NATS headers, or the Redis `h` field plus entry fields). */
async function storedHeaders(transport: TransportName, topic: string): Promise<Record<string, string>> {
  if (transport === 'nats') {
    const jsm = await jetstreamManager(harness.nc);
    const msg = await jsm.streams.getMessage(harness.names.stream, { last_by_subj: `${harness.names.subjectPrefix}.${topic}` });
    const out: Record<string, string> = {};
    for (const [name, values] of msg!.header ?? []) out[name] = values[0] ?? '';
    return out;
  }
  const entries = await harness.redis.xRevRange(`${harness.names.redisKeyPrefix}:s:${topic}`, '+', '-', { COUNT: 1 });
  const fields = entries?.[0]?.message as Record<string, string>;
  return { ...(JSON.parse(fields.h ?? '{}') as Record<string, string>), ...Object.fromEntries(Object.entries(fields).filter(([k]) => k !== 'h' && k !== 'd')) };
}

async function until(done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await sleep(20);
}

const spans = (name: string, topic: string): ReadableSpan[] =>
  tracing.exporter.getFinishedSpans().filter((s) => s.name === name && s.attributes['messaging.destination.name'] === topic);

describe.each(['nats', 'redis'] as const)('event tracing on %s', (transport) => {
  it('adds no trace header and no span when no tracer provider is registered', async () => {
    expect(tracingActive()).toBe(false);
    const topic = `off.${transport}`;
    const seen: Array<Record<string, string>> = [];
    const sub = await bus.subscribe(topic, (m) => void seen.push({ ...m.headers }), { transport, group: 'g' });
    await bus.publish(topic, { n: 1 }, { transport, headers: { tenant: 'acme' } });
    await until(() => seen.length === 1);
    await sub.close();
    expect(seen).toEqual([{ tenant: 'acme' }]);
    const stored = await storedHeaders(transport, topic);
    expect(stored.tenant).toBe('acme');
    expect(stored.traceparent).toBeUndefined();
    expect(stored.tracestate).toBeUndefined();
  });
});

describe('with a tracer provider registered', () => {
  beforeAll(() => {
    tracing = installTestTracing();
  });

  describe.each(['nats', 'redis'] as const)('on %s', (transport) => {
    it('links the delivery span to the publish span inside the caller trace', async () => {
      expect(tracingActive()).toBe(true);
      const topic = `linked.${transport}`;
      let handled = 0;
      let handlerTraceId: string | undefined;
      const sub = await bus.subscribe(
        topic,
        () => {
          handlerTraceId = trace.getActiveSpan()?.spanContext().traceId;
          handled++;
        },
        { transport, group: 'billing', qos: 2 },
      );
      const parent = trace.getTracer('test').startSpan('http.request');
      const { messageId } = await context.with(trace.setSpan(context.active(), parent), () => bus.publish(topic, { n: 1 }, { transport, qos: 2 }));
      parent.end();
      await until(() => handled === 1 && spans('ipc.event.process', topic).length === 1);
      await sub.close();

      const [publish] = spans('ipc.event.publish', topic);
      const [process] = spans('ipc.event.process', topic);
      const traceId = parent.spanContext().traceId;
      expect(publish?.kind).toBe(SpanKind.PRODUCER);
      expect(process?.kind).toBe(SpanKind.CONSUMER);
      expect(publish!.spanContext().traceId).toBe(traceId);
      expect(publish!.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(process!.spanContext().traceId).toBe(traceId);
      expect(process!.parentSpanContext?.spanId).toBe(publish!.spanContext().spanId);
      expect(handlerTraceId).toBe(traceId); // the handler runs inside the delivery span
      expect(process!.attributes).toMatchObject({
        'messaging.system': transport,
        'messaging.destination.name': topic,
        'messaging.consumer.group.name': 'billing',
        'messaging.message.id': messageId,
        'ipc.event.delivery_count': 1,
        'ipc.event.outcome': 'acked',
      });
      expect((await storedHeaders(transport, topic)).traceparent).toMatch(new RegExp(`^00-${traceId}-${publish!.spanContext().spanId}-01$`));
    });

    it('shows a redelivered event as two delivery spans of the same publish', async () => {
      const topic = `redelivered.${transport}`;
      let attempts = 0;
      const sub = await bus.subscribe(
        topic,
        () => {
          if (++attempts === 1) throw new Error('first attempt fails');
        },
        { transport, group: 'g', backoff: [50], maxDeliver: 3 },
      );
      await bus.publish(topic, { n: 1 }, { transport });
      await until(() => spans('ipc.event.process', topic).length === 2);
      await sub.close();

      const [publish] = spans('ipc.event.publish', topic);
      const deliveries = spans('ipc.event.process', topic).sort(
        (a, b) => Number(a.attributes['ipc.event.delivery_count']) - Number(b.attributes['ipc.event.delivery_count']),
      );
      expect(deliveries.map((s) => [s.attributes['ipc.event.delivery_count'], s.attributes['ipc.event.outcome']])).toEqual([
        [1, 'redelivered'],
        [2, 'acked'],
      ]);
      for (const d of deliveries) {
        expect(d.spanContext().traceId).toBe(publish!.spanContext().traceId);
        expect(d.parentSpanContext?.spanId).toBe(publish!.spanContext().spanId);
      }
      expect(deliveries[0]!.status.message).toContain('first attempt fails');
    });

    it('marks a dead-lettered delivery', async () => {
      const topic = `dead.${transport}`;
      const sub = await bus.subscribe(
        topic,
        () => {
          throw new Error('poison');
        },
        { transport, group: 'g', backoff: [20], maxDeliver: 2 },
      );
      await bus.publish(topic, { n: 1 }, { transport });
      await until(() => spans('ipc.event.process', topic).length === 2);
      await sub.close();
      expect(spans('ipc.event.process', topic).map((s) => s.attributes['ipc.event.outcome']).sort()).toEqual(['dead-lettered', 'redelivered']);
    });

    it("continues the trace of an external publisher's traceparent (the outbox relay)", async () => {
      const topic = `external.${transport}`;
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const spanId = '00f067aa0ba902b7';
      const traceparent = `00-${traceId}-${spanId}-01`;
      let handled = 0;
      const sub = await bus.subscribe(topic, () => void handled++, { transport, group: 'g' });
      const data = encode({ n: 1 });
      if (transport === 'nats') {
        const h = natsHeaders();
        h.set('Ipc-Message-Id', 'ext-1');
        h.set('traceparent', traceparent);
        await jetstream(harness.nc).publish(`${harness.names.subjectPrefix}.${topic}`, data, { headers: h });
      } else {
        // The outbox Redis sink's shape: trace context as a top-level entry field.
        await harness.redis.xAdd(`${harness.names.redisKeyPrefix}:s:${topic}`, '*', {
          h: JSON.stringify({ 'Ipc-Message-Id': 'ext-1' }),
          d: Buffer.from(data),
          traceparent,
        });
      }
      await until(() => handled === 1 && spans('ipc.event.process', topic).length === 1);
      await sub.close();
      const [process] = spans('ipc.event.process', topic);
      expect(process!.spanContext().traceId).toBe(traceId);
      expect(process!.parentSpanContext?.spanId).toBe(spanId);
      expect(process!.attributes['messaging.message.id']).toBe('ext-1');
    });
  });
});
