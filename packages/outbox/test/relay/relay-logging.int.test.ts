/**
 * SPEC OBS-3 for the outbox relay: a failed publish logs `outbox_publish_retry` (warn), the last
 * one `outbox_event_failed` (error), a published row `outbox_event_sent` (debug, after COMMIT),
 * each with the event's id as `message_id` and the trace id of the traceparent stored with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { captureLogs, waitFor } from '@aegis-ipc/testing';
import { NatsJetStreamSink, OutboxRelay, listFailed, replayFailed, stats } from '../../src/index.js';
import { createOutboxFixture, type OutboxFixture } from '../fixtures/outbox-fixture.js';
import { FlakySink } from '../fixtures/flaky-sink.js';

describe('relay logs', () => {
  let fx: OutboxFixture;
  let nats: NatsJetStreamSink;

  beforeAll(async () => {
    fx = await createOutboxFixture();
    nats = await NatsJetStreamSink.create({ stream: fx.stream, topics: [fx.topic] }, fx.nc);
  });
  afterAll(async () => {
    await fx.close();
  });

  it('a failing publish logs each retry and the FAILED row with message_id and trace_id; the replayed row logs outbox_event_sent', async () => {
    const logs = captureLogs();
    const sink = new FlakySink(nats);
    sink.down = true;
    const relay = new OutboxRelay(fx.db, sink, { pollIntervalMs: 60_000, retryDelaysMs: [100, 100], relayId: 'relay-logged', logger: pino({ level: 'debug' }, logs.stream) });
    await relay.start();
    try {
      const traceId = randomUUID().replaceAll('-', '');
      const session = randomUUID();
      const result = await fx.writer().submitCommand(
        {
          aggregateType: 'TEST_SESSION', sessionId: session, commandType: 'ConfirmStage', payload: { n: 1 },
          correlationId: `corr-${session}`, causationId: `req-${session}`, trace: { traceparent: `00-${traceId}-${'ab'.repeat(8)}-01` },
        },
        () => ({ outcome: 'completed', events: [{ eventType: 'Test.Session.StageConfirmed', payload: { n: 1 } }] }),
      );
      const eventId = result.events[0]!.event_id;
      const ids = { relay_id: 'relay-logged', message_id: eventId, trace_id: traceId };
      await waitFor(async () => (await listFailed(fx.db)).length === 1, { timeoutMs: 10_000, what: 'row FAILED' });

      expect(logs.withEvent('outbox_publish_retry')).toEqual([
        expect.objectContaining({ ...ids, level: 40, attempt: 1, retry_in_ms: 100, err: 'Error: broker unavailable (simulated)' }),
        expect.objectContaining({ ...ids, level: 40, attempt: 2, retry_in_ms: 100 }),
      ]);
      expect(logs.withEvent('outbox_event_failed')).toEqual([expect.objectContaining({ ...ids, level: 50, attempts: 3 })]);
      expect(logs.withEvent('outbox_event_sent')).toEqual([]);

      sink.down = false;
      await replayFailed(fx.db);
      await waitFor(async () => (await stats(fx.db)).sent === 1, { timeoutMs: 5_000, what: 'SENT after replay' });
      await waitFor(() => logs.withEvent('outbox_event_sent').length === 1, { what: 'the sent line' });
      expect(logs.withEvent('outbox_event_sent')[0]).toMatchObject({ ...ids, level: 20 });
    } finally {
      await relay.close();
    }
  });
});
