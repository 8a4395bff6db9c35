/**
 * `npm run bench -- outbox [--commands N]` — the transactional outbox against a raw baseline,
 * measured in the same run on the same PostgreSQL and NATS:
 *
 * - raw loop: N rows bulk-inserted into a bare table, then a minimal `SKIP LOCKED` claim →
 *   JetStream publish (Nats-Msg-Id) → mark SENT loop, batch 100: the floor any relay pays.
 * - AegisIPC commands/s: N commands through `OutboxWriter.submitCommand` (command + event +
 *   outbox row in one REPEATABLE READ transaction, aggregate lock, 16 concurrent writers).
 * - AegisIPC relay events/s: the same N rows drained by `OutboxRelay` (per-aggregate order
 *   guard, retries bookkeeping), batch 100.
 * - commit-to-publish: with the relay running, the time from `submitCommand` resolving (the
 *   commit is visible to the caller) to the event arriving at a NATS subscriber; wake-ups come
 *   from LISTEN/NOTIFY, the 5 s poll is left at its default.
 *
 * Prints a table, then one JSON line with every figure and a `summary`.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connectTestNats, createTestDatabase, deleteStreams, uniqueName } from '@aegis-ipc/testing';
import { NatsJetStreamSink, OutboxRelay, OutboxWriter, PgDatabase, migrate, stats } from '@aegis-ipc/outbox';

const { values } = parseArgs({ options: { commands: { type: 'string', default: '5000' }, latency: { type: 'string', default: '1000' } } });
const N = Number(values.commands);
const LATENCY_N = Number(values.latency);
const WRITERS = 16;
const BATCH = 100;
const AGGREGATES = 1000;

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

const testDb = await createTestDatabase('aegis_bench_outbox');
const db = new PgDatabase({ connectionString: testDb.url, poolSize: WRITERS + 4, applicationName: 'aegis-bench' });
const nc = await connectTestNats('aegis-bench-outbox');
const topic = uniqueName('bench').replaceAll('_', '-');
const stream = uniqueName('BENCH_OUTBOX');
const rawTopic = `${topic}-raw`;

try {
  await migrate(db);
  const sink = await NatsJetStreamSink.create({ stream, topics: [topic, rawTopic] }, nc);

  // ── raw baseline ──────────────────────────────────────────────────────────
  await db.query(`CREATE TABLE raw_outbox (id bigserial PRIMARY KEY, event_id uuid NOT NULL, key text NOT NULL, payload jsonb NOT NULL, status text NOT NULL DEFAULT 'PENDING')`);
  await db.query(`CREATE INDEX raw_outbox_pending ON raw_outbox (id) WHERE status = 'PENDING'`);
  let t = performance.now();
  await db.query(
    `INSERT INTO raw_outbox (event_id, key, payload)
     SELECT gen_random_uuid(), 'agg-' || (g % ${AGGREGATES}), jsonb_build_object('n', g) FROM generate_series(1, $1) g`,
    [N],
  );
  const rawInsertMs = performance.now() - t;
  const js = jetstream(nc);
  const enc = new TextEncoder();
  t = performance.now();
  for (;;) {
    const n = await db.transaction(
      async (tx) => {
        const rows = await tx.query<{ id: string; event_id: string; key: string; payload: unknown }>(
          `SELECT id, event_id, key, payload FROM raw_outbox WHERE status = 'PENDING' ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
        );
        await Promise.all(
          rows.map((r) => {
            const h = natsHeaders();
            h.set('Nats-Msg-Id', r.event_id);
            return js.publish(`${rawTopic}.${r.key}`, enc.encode(JSON.stringify(r.payload)), { msgID: r.event_id, headers: h });
          }),
        );
        if (rows.length > 0) await tx.query(`UPDATE raw_outbox SET status = 'SENT' WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
        return rows.length;
      },
      { isolation: 'READ_COMMITTED' },
    );
    if (n === 0) break;
  }
  const rawLoopMs = performance.now() - t;

  // ── AegisIPC writer ───────────────────────────────────────────────────────
  const writer = new OutboxWriter(db, { topic });
  const sessions = Array.from({ length: AGGREGATES }, () => randomUUID());
  const submit = (i: number) =>
    writer.submitCommand(
      { aggregateType: 'BENCH', sessionId: sessions[i % AGGREGATES] ?? '', commandType: 'ConfirmStage', payload: { n: i }, correlationId: `c-${i}`, causationId: `r-${i}` },
      () => ({ outcome: 'completed', events: [{ eventType: 'Bench.Session.StageConfirmed', payload: { n: i } }] }),
    );
  let next = 0;
  t = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      for (let i = next++; i < N; i = next++) await submit(i);
    }),
  );
  const writeMs = performance.now() - t;

  // ── AegisIPC relay drain ──────────────────────────────────────────────────
  const relay = new OutboxRelay(db, sink, { batchSize: BATCH });
  t = performance.now();
  await relay.start();
  while ((await stats(db)).sent < N) await new Promise((r) => setTimeout(r, 20));
  const relayMs = performance.now() - t;

  // ── commit-to-publish latency (relay running, idle, woken by NOTIFY) ─────
  const arrived = new Map<string, number>();
  const sub = nc.subscribe(`${topic}.>`, {
    callback: (_err, msg) => {
      const id = msg.headers?.get('Nats-Msg-Id');
      if (id) arrived.set(id, performance.now());
    },
  });
  const committed = new Map<string, number>();
  let lat = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = lat++; i < LATENCY_N; i = lat++) {
        const res = await submit(N + i);
        committed.set(res.events[0]?.event_id ?? '', performance.now());
        await new Promise((r) => setTimeout(r, 10)); // a steady trickle, not a flood
      }
    }),
  );
  const deadline = Date.now() + 30_000;
  while (arrived.size < committed.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  sub.unsubscribe();
  await relay.close();
  const latencies = [...committed].map(([id, c]) => Math.max(0, (arrived.get(id) ?? Number.NaN) - c)).filter(Number.isFinite).sort((a, b) => a - b);

  const figures = {
    commands: N,
    batch_size: BATCH,
    writers: WRITERS,
    aggregates: AGGREGATES,
    raw_bulk_insert_rows_per_s: round(N / (rawInsertMs / 1000)),
    raw_loop_events_per_s: round(N / (rawLoopMs / 1000)),
    commands_per_s: round(N / (writeMs / 1000)),
    relay_events_per_s: round(N / (relayMs / 1000)),
    ratio_relay_vs_raw_loop: round(N / (relayMs / 1000) / (N / (rawLoopMs / 1000)), 3),
    latency_samples: latencies.length,
    latency_lost: committed.size - latencies.length,
    commit_to_publish_p50_ms: round(pct(latencies, 50), 2),
    commit_to_publish_p99_ms: round(pct(latencies, 99), 2),
    commit_to_publish_max_ms: round(latencies.at(-1) ?? 0, 2),
  };
  const rows: Array<[string, string]> = [
    ['raw bulk insert (rows/s)', String(figures.raw_bulk_insert_rows_per_s)],
    ['raw SKIP LOCKED loop (events/s)', String(figures.raw_loop_events_per_s)],
    ['AegisIPC commands (commands/s)', String(figures.commands_per_s)],
    ['AegisIPC relay drain (events/s)', String(figures.relay_events_per_s)],
    ['relay / raw loop', String(figures.ratio_relay_vs_raw_loop)],
    ['commit→publish p50 (ms)', String(figures.commit_to_publish_p50_ms)],
    ['commit→publish p99 (ms)', String(figures.commit_to_publish_p99_ms)],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`outbox benchmark: ${N} commands, ${WRITERS} writers, ${AGGREGATES} aggregates, batch ${BATCH}`);
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
  console.log(
    JSON.stringify({
      bench: 'outbox',
      ...figures,
      summary: {
        commands_per_s: figures.commands_per_s,
        relay_events_per_s: figures.relay_events_per_s,
        ratio_relay_vs_raw_loop: figures.ratio_relay_vs_raw_loop,
        commit_to_publish_p50_ms: figures.commit_to_publish_p50_ms,
        commit_to_publish_p99_ms: figures.commit_to_publish_p99_ms,
      },
    }),
  );
} finally {
  await db.close();
  await deleteStreams(nc, [stream]);
  await nc.close();
  await testDb.drop();
}
