import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { waitFor } from '@aegis-ipc/testing';
import { NatsJetStreamSink, OutboxRelay, stats } from '../../src/index.js';
import { startMetricsServer } from '../../src/relay/metrics-server.js';
import { createOutboxFixture, readStream, submitOne, type OutboxFixture } from '../fixtures/outbox-fixture.js';

describe('OutboxRelay → NATS JetStream', () => {
  let fx: OutboxFixture;
  let sink: NatsJetStreamSink;
  let relay: OutboxRelay;

  beforeAll(async () => {
    fx = await createOutboxFixture();
    sink = await NatsJetStreamSink.create({ stream: fx.stream, topics: [fx.topic] }, fx.nc);
    relay = new OutboxRelay(fx.db, sink, { pollIntervalMs: 60_000 });
    await relay.start();
  });
  afterAll(async () => {
    await relay.close();
    await fx.close();
  });

  it('publishes committed events on NOTIFY (not the poll) with Nats-Msg-Id = event id, and marks them SENT', async () => {
    const writer = fx.writer();
    const session = randomUUID();
    const started = Date.now();
    const results = [];
    for (let n = 1; n <= 5; n++) results.push(await submitOne(writer, session, n));
    await waitFor(async () => (await stats(fx.db)).sent === 5, { timeoutMs: 5_000, what: '5 rows SENT' });
    expect(Date.now() - started).toBeLessThan(3_000); // the poll is 60 s: NOTIFY woke the relay
    const msgs = await readStream(fx.nc, fx.stream);
    expect(msgs).toHaveLength(5);
    expect(msgs.map((m) => m.msgId)).toEqual(results.map((r) => r.events[0]?.event_id));
    expect(msgs.map((m) => (m.event.payload as { n: number }).n)).toEqual([1, 2, 3, 4, 5]);
    expect(msgs[0]?.subject).toBe(`${fx.topic}.${session}`);
    expect(msgs[0]?.event.event_type).toBe('Test.Session.StageConfirmed');
    expect(String((msgs[0]?.event.metadata as { trace: { traceparent: string } }).trace.traceparent)).toMatch(/^00-[0-9a-f]{32}-/);
  });

  it('serves relay metrics: pending, sent, failed, publish latency, oldest pending age', async () => {
    const server = await startMetricsServer(relay.metrics.registry, '127.0.0.1', 0, () => relay.isRunning);
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      for (const name of ['ipc_outbox_pending', 'ipc_outbox_sent_total', 'ipc_outbox_failed_total', 'ipc_outbox_failed', 'ipc_outbox_publish_duration_seconds_bucket', 'ipc_outbox_oldest_pending_age_seconds', 'ipc_outbox_lag_seconds_bucket']) {
        expect(text).toContain(name);
      }
      expect(text).toMatch(/ipc_outbox_sent_total\{relay_id="[^"]+"\} 5/);
      const health = await fetch(`http://127.0.0.1:${server.port}/health`);
      expect(health.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
