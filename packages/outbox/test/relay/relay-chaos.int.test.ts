import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { spawnTs, waitFor, TEST_NATS_URL, type SpawnedProcess } from '@aegis-ipc/testing';
import { NatsJetStreamSink, stats } from '../../src/index.js';
import { createOutboxFixture, readStream, submitOne, type OutboxFixture } from '../fixtures/outbox-fixture.js';

const RELAY_ENTRY = fileURLToPath(new URL('../fixtures/relay-process.ts', import.meta.url));
// The proof is 10,000; AEGIS_OUTBOX_CHAOS_COMMANDS lowers it for a quick local run.
const COMMANDS = Number(process.env.AEGIS_OUTBOX_CHAOS_COMMANDS ?? 10_000);
const AGGREGATES = 100;
const KILL_EVERY_MS = 3_000;

describe('two relays, one SIGKILLed every 3 s, during 10,000 commands over 100 aggregates', () => {
  let fx: OutboxFixture;
  const relays: SpawnedProcess[] = [];

  beforeAll(async () => {
    fx = await createOutboxFixture({ poolSize: 16 });
    // The stream exists before the relays start, so both see the same one.
    await NatsJetStreamSink.create({ stream: fx.stream, topics: [fx.topic] }, fx.nc);
  });
  afterAll(async () => {
    for (const r of relays) r.kill('SIGKILL');
    await Promise.all(relays.map((r) => r.exited));
    await fx.close();
  });

  const startRelay = async (name: string): Promise<SpawnedProcess> => {
    const p = spawnTs(RELAY_ENTRY, [], {
      DATABASE_URL: fx.testDb.url,
      NATS_URL: TEST_NATS_URL,
      RELAY_NATS_STREAM: fx.stream,
      OUTBOX_TOPIC: fx.topic,
      RELAY_POLL_INTERVAL: '1',
      RELAY_BATCH_SIZE: '100',
      RELAY_METRICS_PORT: '0',
      RELAY_ID: name,
    });
    relays.push(p);
    // Generous: a cold tsx start on a loaded 2-core machine can take tens of seconds.
    await p.waitForLine(/relay ready/, 90_000);
    return p;
  };

  it('publishes every event once, in order per aggregate, and drains within 30 s', async () => {
    const live = [await startRelay('a-0'), await startRelay('b-0')];
    const writer = fx.writer();
    const sessions = Array.from({ length: AGGREGATES }, () => randomUUID());
    let written = 0;
    let kills = 0;
    let writing = true;

    // Faults: every 3 s SIGKILL one *running* relay (alternating) and start its replacement
    // without waiting for it, so kills keep their cadence even when a start is slow. A tick
    // with no running relay in the victim's slot kills the other one instead.
    const starting: Array<Promise<unknown>> = [];
    const ready = new Set<SpawnedProcess>(live);
    const startFailures: unknown[] = [];
    const chaos = (async () => {
      let victim = 0;
      while (writing) {
        await new Promise((r) => setTimeout(r, KILL_EVERY_MS));
        if (!writing) break;
        const current = live[victim];
        const slot = current !== undefined && ready.has(current) ? victim : 1 - victim;
        const target = live[slot];
        if (target === undefined || !ready.has(target)) continue; // both still starting
        target.kill('SIGKILL');
        ready.delete(target);
        kills++;
        starting.push(
          startRelay(`${slot === 0 ? 'a' : 'b'}-${kills}`).then(
            (p) => {
              live[slot] = p;
              ready.add(p);
            },
            (err: unknown) => startFailures.push(err),
          ),
        );
        victim = 1 - slot;
      }
      await Promise.all(starting);
    })();

    // Load: 16 concurrent writers; command i goes to aggregate i % 100, so each aggregate gets
    // 100 events whose payload n grows with their order.
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (;;) {
          const i = written++;
          if (i >= COMMANDS) return;
          await submitOne(writer, sessions[i % AGGREGATES] ?? '', i);
        }
      }),
    );
    const writeMs = Date.now() - t0;
    writing = false;
    await chaos;
    const faultsStopped = Date.now();
    expect(kills).toBeGreaterThanOrEqual(1);
    expect(startFailures).toEqual([]);

    await waitFor(async () => (await stats(fx.db)).sent === COMMANDS, { timeoutMs: 30_000, intervalMs: 200, what: 'all rows SENT' });
    const drainMs = Date.now() - faultsStopped;
    expect(drainMs).toBeLessThan(30_000);
    expect(await stats(fx.db)).toMatchObject({ pending: 0, failed: 0, sent: COMMANDS });

    const msgs = await readStream(fx.nc, fx.stream);
    const ids = new Set(msgs.map((m) => m.msgId));
    expect(ids.size).toBe(COMMANDS); // every event is in the stream
    expect(msgs).toHaveLength(COMMANDS); // and none twice (Nats-Msg-Id dedupe)

    const lastSeq = new Map<string, number>();
    let outOfOrder = 0;
    for (const m of msgs) {
      const agg = m.event.aggregate_id as string;
      const seq = m.event.sequence as number;
      if ((lastSeq.get(agg) ?? 0) > seq) outOfOrder++;
      lastSeq.set(agg, seq);
    }
    expect(outOfOrder).toBe(0);
    expect(lastSeq.size).toBe(AGGREGATES);
    console.log(`chaos: ${COMMANDS} commands in ${writeMs} ms, ${kills} SIGKILLs, drained ${drainMs} ms after faults stopped`);
  }, 240_000);
});
