import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { waitFor } from '@aegis-ipc/testing';
import { NatsJetStreamSink, OutboxRelay, PgDatabase, listFailed, replayFailed, stats } from '../../src/index.js';
import { createOutboxFixture, readStream, submitOne, type OutboxFixture } from '../fixtures/outbox-fixture.js';
import { FlakySink } from '../fixtures/flaky-sink.js';

describe('relay under failures', () => {
  let fx: OutboxFixture;
  let nats: NatsJetStreamSink;

  beforeAll(async () => {
    fx = await createOutboxFixture();
    nats = await NatsJetStreamSink.create({ stream: fx.stream, topics: [fx.topic] }, fx.nc);
  });
  afterAll(async () => {
    await fx.close();
  });

  it('broker down → retries after 1 s/2 s/4 s → FAILED with the error, later events held → replay → SENT in order', async () => {
    const sink = new FlakySink(nats);
    sink.down = true;
    const relay = new OutboxRelay(fx.db, sink, { pollIntervalMs: 60_000 });
    await relay.start();
    try {
      const writer = fx.writer();
      const session = randomUUID();
      const first = await submitOne(writer, session, 1);
      const eventId = first.events[0]?.event_id ?? '';
      await waitFor(async () => (await listFailed(fx.db)).length === 1, { timeoutMs: 15_000, what: 'row FAILED' });
      const tries = sink.attempts.filter((a) => a.eventId === eventId).map((a) => a.at);
      expect(tries).toHaveLength(4); // the first attempt + 3 retries
      const gaps = tries.slice(1).map((t, i) => t - (tries[i] ?? 0));
      for (const [i, expected] of [1000, 2000, 4000].entries()) {
        expect(gaps[i]).toBeGreaterThanOrEqual(expected - 50);
        expect(gaps[i]).toBeLessThan(expected + 1500);
      }
      const [failed] = await listFailed(fx.db);
      expect(failed).toMatchObject({ eventId, status: 'FAILED', attempts: 4, lastError: 'Error: broker unavailable (simulated)' });

      // A later event of the same aggregate is held back while the earlier one is FAILED.
      await submitOne(writer, session, 2);
      await new Promise((r) => setTimeout(r, 500));
      expect(await stats(fx.db)).toMatchObject({ pending: 1, failed: 1, sent: 0 });
      expect(sink.attempts).toHaveLength(4);

      sink.down = false; // broker back
      expect(await replayFailed(fx.db)).toEqual([failed?.id]);
      await waitFor(async () => (await stats(fx.db)).sent === 2, { timeoutMs: 5_000, what: 'both SENT after replay' });
      const msgs = (await readStream(fx.nc, fx.stream)).filter((m) => m.event.aggregate_id === session);
      expect(msgs.map((m) => (m.event.payload as { n: number }).n)).toEqual([1, 2]);
    } finally {
      await relay.close();
    }
  }, 30_000);

  it('a row that commits late (transaction open 2 s while 1,000 others commit) is not skipped', async () => {
    const relay = new OutboxRelay(fx.db, nats, { pollIntervalMs: 60_000 });
    await relay.start();
    try {
      const writer = fx.writer();
      const slowSession = randomUUID();
      let inserted!: () => void;
      const insertedP = new Promise<void>((r) => (inserted = r));
      // Takes its sequence numbers first, commits last.
      const slow = fx.db.transaction(
        async (tx) => {
          const events = await writer.appendEvents(tx, [{ eventType: 'Test.Session.SlowCompleted' }], {
            correlationId: 'c',
            causationId: 'slow',
            aggregateType: 'TEST_SESSION',
            aggregateId: slowSession,
            trace: { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` },
          });
          inserted();
          await new Promise((r) => setTimeout(r, 2_000));
          return events[0];
        },
        { lockKeys: [slowSession] },
      );
      await insertedP;
      const before = (await stats(fx.db)).sent;
      const sessions = Array.from({ length: 50 }, () => randomUUID());
      for (let batch = 0; batch < 1_000; batch += 50) {
        await Promise.all(sessions.map((s, i) => submitOne(writer, s, batch + i)));
      }
      const slowEvent = await slow;
      await waitFor(async () => (await stats(fx.db)).sent === before + 1_001, { timeoutMs: 20_000, what: '1,001 rows SENT' });
      const msgs = await readStream(fx.nc, fx.stream);
      const slowMsg = msgs.find((m) => m.msgId === slowEvent?.event_id);
      expect(slowMsg).toBeDefined();
      // it really was overtaken: later sequence numbers were published before it
      const overtaken = msgs.filter((m) => (m.event.sequence as number) > (slowEvent?.sequence ?? 0) && m.seq < (slowMsg?.seq ?? 0));
      expect(overtaken.length).toBeGreaterThan(0);
      expect(await stats(fx.db)).toMatchObject({ pending: 0, failed: 0 });
    } finally {
      await relay.close();
    }
  }, 60_000);

  it('resumes by itself after its PostgreSQL connections are terminated, losing nothing', async () => {
    // We do not restart the shared PostgreSQL server (other suites use it). Terminating the
    // relay's backends is what a server restart looks like to the relay: every connection,
    // LISTEN included, dies mid-work. See docs/outbox.md.
    const appName = `aegis-relay-kill-${randomUUID().slice(0, 8)}`;
    const relayDb = new PgDatabase({ connectionString: fx.testDb.url, applicationName: appName });
    const relay = new OutboxRelay(relayDb, nats, { pollIntervalMs: 1_000, errorBackoffMs: 100, batchSize: 20 });
    await relay.start();
    try {
      const writer = fx.writer();
      const before = await stats(fx.db);
      const sessions = Array.from({ length: 20 }, () => randomUUID());
      let terminated = 0;
      for (let round = 0; round < 25; round++) {
        await Promise.all(sessions.map((s, i) => submitOne(writer, s, round * 100 + i)));
        if (round % 8 === 4) {
          const rows = await fx.db.query<{ ok: boolean }>(
            'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name LIKE $1',
            [`${appName}%`],
          );
          terminated += rows.filter((r) => r.ok).length;
        }
      }
      expect(terminated).toBeGreaterThan(0);
      await waitFor(async () => (await stats(fx.db)).sent === before.sent + 500, { timeoutMs: 20_000, what: '500 more rows SENT' });
      // New work after the last kill is still picked up on NOTIFY (LISTEN reconnected).
      const s = randomUUID();
      await submitOne(writer, s, 1);
      await waitFor(async () => (await stats(fx.db)).sent === before.sent + 501, { timeoutMs: 5_000, what: 'post-kill row SENT' });
      const msgs = await readStream(fx.nc, fx.stream);
      expect(new Set(msgs.map((m) => m.msgId)).size).toBe(msgs.length); // no duplicates in the stream
    } finally {
      await relay.close();
      await relayDb.close();
    }
  }, 60_000);
});
