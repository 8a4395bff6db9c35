import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { spawnTs, waitFor } from '@aegis-ipc/testing';
import { NatsJetStreamSink, OutboxRelay, PgDatabase, stats } from '../../src/index.js';
import { createOutboxFixture, readStream, submitOne, type OutboxFixture } from '../fixtures/outbox-fixture.js';

const CRASHING_WRITER = fileURLToPath(new URL('../fixtures/writer-crash-process.ts', import.meta.url));

/**
 * The writer wakes relays with a NOTIFY of its own after COMMIT (ADR 0013 round 3), not from
 * inside its transaction. Relays of other processes (here: another PgDatabase, its own LISTEN
 * connection) must still wake at once, and a writer that dies between COMMIT and that NOTIFY may
 * only delay its rows until the poll — never lose them.
 */
describe('relay wake-ups after the writer commits', () => {
  let fx: OutboxFixture;
  let relayDb: PgDatabase;
  let sink: NatsJetStreamSink;

  beforeAll(async () => {
    fx = await createOutboxFixture();
    relayDb = new PgDatabase({ connectionString: fx.testDb.url, poolSize: 2, applicationName: 'aegis-outbox-test-relay' });
    sink = await NatsJetStreamSink.create({ stream: fx.stream, topics: [fx.topic] }, fx.nc);
  });
  afterAll(async () => {
    await relayDb.close();
    await fx.close();
  });

  it('a relay on another connection is woken by the post-commit NOTIFY, not the poll', async () => {
    const relay = new OutboxRelay(relayDb, sink, { pollIntervalMs: 60_000 });
    await relay.start();
    try {
      const writer = fx.writer();
      const session = randomUUID();
      const started = Date.now();
      for (let n = 1; n <= 5; n++) await submitOne(writer, session, n);
      await waitFor(async () => (await stats(fx.db)).sent === 5, { timeoutMs: 5_000, what: '5 rows SENT' });
      expect(Date.now() - started).toBeLessThan(3_000); // the poll is 60 s
    } finally {
      await relay.close();
    }
  });

  it('a writer killed between COMMIT and its NOTIFY costs latency (the poll), never the row', async () => {
    const outside = new pg.Client({ connectionString: fx.testDb.url });
    const payloads: string[] = [];
    outside.on('notification', (msg) => payloads.push(msg.payload ?? ''));
    await outside.connect();
    await outside.query('LISTEN aegis_outbox');
    const relay = new OutboxRelay(relayDb, sink, { pollIntervalMs: 1_500 });
    await relay.start();
    try {
      const session = randomUUID();
      const child = spawnTs(CRASHING_WRITER, [], { DATABASE_URL: fx.testDb.url, OUTBOX_TOPIC: fx.topic, SESSION_ID: session });
      await child.exited;
      expect(child.child.signalCode).toBe('SIGKILL');
      const [row] = await fx.db.query<{ event_id: string }>('SELECT event_id FROM event_outbox WHERE key = $1', [session]);
      expect(row).toBeDefined(); // committed before the process died
      await new Promise((r) => setTimeout(r, 300));
      expect(payloads).toEqual([]); // no wake-up reached any listener: neither inside the transaction nor after
      await waitFor(async () => (await fx.db.query<{ status: string }>('SELECT status FROM event_outbox WHERE key = $1', [session]))[0]?.status === 'SENT', {
        timeoutMs: 10_000,
        what: 'the orphaned row SENT by the poll',
      });
      const published = (await readStream(fx.nc, fx.stream)).filter((m) => m.msgId === row?.event_id);
      expect(published).toHaveLength(1);
    } finally {
      await relay.close();
      await outside.end();
    }
  });
});
