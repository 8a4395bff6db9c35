/**
 * OB-5 "graceful shutdown loses nothing in flight": a relay stopped in the middle of a large
 * backlog — by `close()` while a batch is half published, and by one SIGTERM of the `aegis relay`
 * process — finishes the batch it holds (every row it published is marked SENT before it
 * returns) and leaves the rest PENDING; a new relay then publishes exactly those. Counted on the
 * relay side (each row handed to a sink once, across both relays) and on the broker (each event
 * id once in the stream), with no row left PENDING or FAILED.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { TEST_NATS_URL, waitFor } from '@aegis-ipc/testing';
import { NatsJetStreamSink, OutboxRelay, stats, type OutboxSink } from '../../src/index.js';
import { createOutboxFixture, readStream, type OutboxFixture } from '../fixtures/outbox-fixture.js';

const AGGREGATES = 1_000;
const EVENTS_PER_AGGREGATE = 2; // 2,000 rows; one head per aggregate per claim
const ROWS = AGGREGATES * EVENTS_PER_AGGREGATE;
const AEGIS_BIN = fileURLToPath(new URL('../../../cli/bin/aegis.js', import.meta.url));

/** Writes the backlog: `AGGREGATES` commands of `EVENTS_PER_AGGREGATE` events each; returns every event id. */
async function writeBacklog(fx: OutboxFixture): Promise<string[]> {
  const writer = fx.writer();
  const ids: string[] = [];
  for (let start = 0; start < AGGREGATES; start += 50) {
    const results = await Promise.all(
      Array.from({ length: Math.min(50, AGGREGATES - start) }, (_, i) =>
        writer.submitCommand(
          { aggregateType: 'TEST_SESSION', sessionId: randomUUID(), commandType: 'ConfirmStage', payload: { n: start + i }, correlationId: `corr-${start + i}`, causationId: `req-${start + i}` },
          () => ({ outcome: 'completed', events: Array.from({ length: EVENTS_PER_AGGREGATE }, (_, e) => ({ eventType: 'Test.Session.StageConfirmed', payload: { n: start + i, e } })) }),
        ),
      ),
    );
    for (const r of results) ids.push(...r.events.map((e) => e.event_id));
  }
  expect(ids).toHaveLength(ROWS);
  return ids;
}

/** A sink that takes 100–400 ms per publish and records which event ids it accepted (relay-side count). */
function slowCountingSink(inner: OutboxSink) {
  const accepted: string[] = [];
  let started = 0;
  const sink: OutboxSink = {
    name: inner.name,
    async publish(record) {
      started++;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
      await inner.publish(record);
      accepted.push(record.eventId);
    },
    close: () => Promise.resolve(),
  };
  return { sink, accepted, inFlight: () => started - accepted.length };
}

/** Asserts the broker holds each of `ids` exactly once, and nothing else. */
async function expectEachOnceInStream(fx: OutboxFixture, ids: readonly string[]): Promise<void> {
  const msgs = await readStream(fx.nc, fx.stream);
  const byId = new Map<string, number>();
  for (const m of msgs) byId.set(m.msgId ?? '', (byId.get(m.msgId ?? '') ?? 0) + 1);
  expect(msgs).toHaveLength(ids.length);
  expect([...byId.values()].every((n) => n === 1)).toBe(true);
  expect(new Set(byId.keys())).toEqual(new Set(ids));
}

describe('relay close() in the middle of a batch (OB-5)', () => {
  let fx: OutboxFixture;
  let nats: NatsJetStreamSink;

  beforeAll(async () => {
    fx = await createOutboxFixture();
    nats = await NatsJetStreamSink.create({ stream: fx.stream, topics: [fx.topic] }, fx.nc);
  });
  afterAll(async () => {
    await fx.close();
  });

  it('marks everything it published, leaves the rest PENDING; the next relay publishes exactly the rest', async () => {
    const ids = await writeBacklog(fx);
    const first = slowCountingSink(nats);
    const relayA = new OutboxRelay(fx.db, first.sink, { batchSize: 500, pollIntervalMs: 60_000 });
    await relayA.start();
    await waitFor(() => first.accepted.length > 0, { timeoutMs: 20_000, what: 'the first publish' });
    const inFlightAtClose = first.inFlight();
    expect(inFlightAtClose).toBeGreaterThan(0); // stopped with a batch half published
    const closing = Date.now();
    await relayA.close();
    const closeMs = Date.now() - closing;

    // Nothing in flight was dropped: every row A handed to the broker is SENT, every other PENDING.
    const afterA = await stats(fx.db);
    expect(first.inFlight()).toBe(0);
    expect(afterA.sent).toBe(first.accepted.length);
    expect(afterA.pending).toBe(ROWS - first.accepted.length);
    expect(afterA.failed).toBe(0);
    expect(afterA.pending).toBeGreaterThan(0);
    expect(closeMs).toBeLessThan(5_000); // the batch finished, no more were claimed

    const second = slowCountingSink(nats);
    const relayB = new OutboxRelay(fx.db, second.sink, { batchSize: 500, pollIntervalMs: 200 });
    await relayB.start();
    try {
      await waitFor(async () => (await stats(fx.db)).sent === ROWS, { timeoutMs: 60_000, what: 'all rows SENT' });
    } finally {
      await relayB.close();
    }
    // Relay side: each row handed to a sink once across both relays.
    expect(first.accepted.filter((id) => second.accepted.includes(id))).toEqual([]);
    expect(new Set([...first.accepted, ...second.accepted])).toEqual(new Set(ids));
    expect(first.accepted.length + second.accepted.length).toBe(ROWS);
    // Broker side: each event id once.
    await expectEachOnceInStream(fx, ids);
    expect(await stats(fx.db)).toMatchObject({ pending: 0, failed: 0, sent: ROWS });
    console.log(`close() with ${inFlightAtClose} publishes in flight returned in ${closeMs} ms; relay A sent ${first.accepted.length}, relay B ${second.accepted.length}`);
  });
});

describe('one SIGTERM of `aegis relay` in the middle of the backlog (OB-5)', () => {
  let fx: OutboxFixture;

  beforeAll(async () => {
    fx = await createOutboxFixture();
    await NatsJetStreamSink.create({ stream: fx.stream, topics: [fx.topic] }, fx.nc);
  });
  afterAll(async () => {
    await fx.close();
  });

  it('exits 0 with every published row SENT; the next relay publishes the rest, each once', { timeout: 120_000 }, async () => {
    const ids = await writeBacklog(fx);
    const child = spawn(process.execPath, [AEGIS_BIN, 'relay', '--poll-interval', '0.2', '--batch-size', '100'], {
      env: { ...process.env, DATABASE_URL: fx.testDb.url, NATS_URL: TEST_NATS_URL, OUTBOX_TOPIC: fx.topic, RELAY_NATS_STREAM: fx.stream, RELAY_METRICS_PORT: '0', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const jsm = await jetstreamManager(fx.nc);
    const inStream = async () => (await jsm.streams.info(fx.stream)).state.messages;
    try {
      // Generous: a cold tsx start on a loaded 2-core machine can take tens of seconds.
      await waitFor(async () => (await inStream()) > 0, { timeoutMs: 90_000, intervalMs: 5, what: 'the relay to start publishing' });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, stderr).toBe(0);

    // What the relay published before it exited is exactly what it marked SENT.
    const afterTerm = await stats(fx.db);
    const published = await inStream();
    expect(afterTerm.sent).toBe(published);
    expect(afterTerm.pending).toBe(ROWS - published);
    expect(afterTerm.failed).toBe(0);

    const relay = new OutboxRelay(fx.db, await NatsJetStreamSink.create({ stream: fx.stream, topics: [fx.topic] }, fx.nc), { batchSize: 500, pollIntervalMs: 200 });
    await relay.start();
    try {
      await waitFor(async () => (await stats(fx.db)).sent === ROWS, { timeoutMs: 60_000, what: 'all rows SENT' });
    } finally {
      await relay.close();
    }
    await expectEachOnceInStream(fx, ids);
    expect(await stats(fx.db)).toMatchObject({ pending: 0, failed: 0, sent: ROWS });
    console.log(`SIGTERM after ${published} of ${ROWS} published: exit 0, ${afterTerm.pending} left PENDING for the next relay`);
  });
});
