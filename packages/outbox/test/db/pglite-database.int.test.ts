import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectTestNats, deleteStreams, uniqueName, waitFor } from '@aegis-ipc/testing';
import type { NatsConnection } from '@nats-io/transport-node';
import { NatsJetStreamSink, OutboxRelay, OutboxWriter, loadMigrations, migrate, openDatabase, stats, type Database } from '../../src/index.js';
import { readStream, submitOne } from '../fixtures/outbox-fixture.js';

describe('embedded PGlite: the same writer and relay path', () => {
  let dir: string;
  let db: Database;
  let nc: NatsConnection;
  const stream = uniqueName('OUTBOX_PGLITE');
  const topic = uniqueName('pglite').replaceAll('_', '-');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aegis-pglite-'));
    db = await openDatabase({ pgliteDir: join(dir, 'pg') }); // no databaseUrl → PGlite
    nc = await connectTestNats('outbox-pglite-test');
  });
  afterAll(async () => {
    await db.close();
    await deleteStreams(nc, [stream]);
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrates (twice, idempotently), rejects duplicates and relays in order to JetStream', async () => {
    expect(db.kind).toBe('pglite');
    expect(await migrate(db)).toEqual(loadMigrations().map((m) => m.version));
    expect(await migrate(db)).toEqual([]);
    const writer = new OutboxWriter(db, { topic });
    const session = randomUUID();
    const input = { aggregateType: 'S', sessionId: session, commandType: 'RequestConceptGeneration', correlationId: 'c', causationId: 'r' };
    const first = await writer.submitCommand(input, () => ({ outcome: 'accepted', events: [{ eventType: 'Genesis.Session.ConceptGenerationRequested' }] }));
    await expect(writer.submitCommand(input, () => ({ outcome: 'accepted' }))).rejects.toMatchObject({
      code: 'DUPLICATE_COMMAND',
      details: { duplicate_command_id: first.commandId },
    });
    // The one-message path (its statements run last in PGlite's transaction) keeps the same rules.
    await expect(writer.recordCommand(input, { outcome: 'completed' })).rejects.toMatchObject({
      code: 'DUPLICATE_COMMAND',
      details: { duplicate_command_id: first.commandId },
    });
    for (let n = 1; n <= 20; n++) await submitOne(writer, session, n);

    const sink = await NatsJetStreamSink.create({ stream, topics: [topic] }, nc);
    const relay = new OutboxRelay(db, sink, { pollIntervalMs: 60_000 });
    await relay.start();
    try {
      await waitFor(async () => (await stats(db)).sent === 21, { timeoutMs: 10_000, what: '21 rows SENT' });
      await submitOne(writer, session, 21); // NOTIFY works on PGlite too
      await waitFor(async () => (await stats(db)).sent === 22, { timeoutMs: 5_000, what: 'row SENT on NOTIFY' });
    } finally {
      await relay.close();
    }
    const msgs = await readStream(nc, stream);
    expect(msgs.map((m) => m.event.sequence)).toEqual([...msgs.map((m) => m.event.sequence as number)].sort((a, b) => a - b));
    expect(msgs).toHaveLength(22);
    const recorded = await writer.recordCommand({ ...input, sessionId: randomUUID() }, { outcome: 'completed', events: [{ eventType: 'Genesis.Session.ConceptGenerationRequested' }] });
    expect(recorded.events).toHaveLength(1);
    expect((await stats(db)).pending).toBe(1);
  }, 60_000);
});
