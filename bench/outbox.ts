/**
 * `npm run bench -- outbox [--commands N] [--rounds R] [--relay-rounds D]` — the transactional
 * outbox against raw baselines, measured in the same run on the same PostgreSQL and NATS. Raw and
 * AegisIPC phases alternate — the writes in R rounds (default 3), the drains in D smaller rounds
 * (default 10, ABBA order), after an unmeasured warm-up of every path — so each ratio compares
 * phases that ran under the same load; the headline ratios are the medians of the per-round
 * ratios (also printed per round). This process's CPU time per command/event is printed too:
 * steadier than the rates on a shared machine.
 *
 * - raw loop: N rows bulk-inserted into a bare table, then a minimal `SKIP LOCKED` claim →
 *   JetStream publish (Nats-Msg-Id) → mark SENT loop, batch 100: the floor any relay pays. It
 *   publishes the same message as the relay (event JSON + event headers); the same loop with a
 *   `{"n":1}` body and one header is reported too (`raw_loop_tiny_msg_events_per_s`). Both
 *   publish through the bench's raw caller (one reply subscription, PubAck checked).
 * - raw write: the same N commands as BEGIN; INSERT command; INSERT outbox row; COMMIT on bare
 *   tables (no lock, no event table, no unique indexes, no NOTIFY), named prepared statements,
 *   16 concurrent writers: the write floor.
 * - AegisIPC commands/s: N commands through `OutboxWriter.submitCommand` (command + event +
 *   outbox row in one REPEATABLE READ transaction, aggregate lock, 16 concurrent writers); the
 *   same N through `recordCommand` (outcome known up front: one message) reported beside it.
 * - AegisIPC relay events/s: the same N rows drained by `OutboxRelay` (per-aggregate order
 *   guard, retries bookkeeping), batch 100, timed from start() having its LISTEN connection
 *   (the time to open and close it is reported apart).
 * - commit-to-publish: with the relay running, the time from `submitCommand` resolving (the
 *   commit is visible to the caller) to the event arriving at a NATS subscriber; wake-ups come
 *   from LISTEN/NOTIFY, the 5 s poll is left at its default.
 *
 * Prints a table, then one JSON line with every figure and a `summary`.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { TEST_NATS_URL, connectTestNats, createTestDatabase, deleteStreams, uniqueName } from '@aegis-ipc/testing';
import { createRawCaller } from './_lib/raw-caller.js';
import { cpuSince, rawOutboxLoop, type Sample } from './_lib/outbox-raw-loop.js';
import { NatsJetStreamSink, OutboxRelay, OutboxWriter, PgDatabase, migrate, stats } from '@aegis-ipc/outbox';

const { values } = parseArgs({
  options: {
    commands: { type: 'string', default: '5000' },
    latency: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    'relay-rounds': { type: 'string', default: '10' },
  },
});
const N = Number(values.commands);
const ROUNDS = Number(values.rounds);
/** Drains per side: the N rows are drained in this many raw/relay pairs (see the rounds below). */
const RELAY_ROUNDS = Number(values['relay-rounds']);
const LATENCY_N = Number(values.latency);
const WRITERS = 16;
const BATCH = 100;
const AGGREGATES = 1000;
/** Commands per write path before the measured rounds. */
const WARMUP = 20 * WRITERS;

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? (s[(s.length - 1) / 2] ?? 0) : ((s[s.length / 2 - 1] ?? 0) + (s[s.length / 2] ?? 0)) / 2;
};
/** A relay drain: `drained` rows in all (target bookkeeping), `setupMs` spent in start() and close(). */
interface RelaySample extends Sample {
  drained: number;
  setupMs: number;
}

const testDb = await createTestDatabase('aegis_bench_outbox');
const db = new PgDatabase({ connectionString: testDb.url, poolSize: WRITERS + 4, applicationName: 'aegis-bench' });
const nc = await connectTestNats('aegis-bench-outbox');
// The raw loops publish the way a tuned plain nats.js loop does (bench/_lib/raw-caller): one reply
// subscription, a correlation id per publish, the PubAck checked. `js.publish()` builds Error
// objects per message inside `nc.request()` (even with `noAsyncTraces`), a cost the relay's own
// PubAck publisher avoids (ADR 0013, as ADR 0023 for events), so the floor avoids it too.
const rawNc = await connect({ servers: TEST_NATS_URL, name: 'aegis-bench-outbox-raw', noAsyncTraces: true });
const rawPublisher = createRawCaller(rawNc);
const topic = uniqueName('bench').replaceAll('_', '-');
const stream = uniqueName('BENCH_OUTBOX');
const rawTopic = `${topic}-raw`;

try {
  await migrate(db);
  const sink = await NatsJetStreamSink.create({ stream, topics: [topic, rawTopic] }, nc);

  // ── raw baseline ──────────────────────────────────────────────────────────
  // The raw SKIP LOCKED loop (bench/_lib/outbox-raw-loop.ts) publishes the SAME message the relay
  // must publish (ADR 0012: the stored event as JSON, ~600 bytes, with the event headers and
  // traceparent); the `{"n":1}` one-header variant is reported as `raw_loop_tiny_msg_events_per_s`.
  const rawLoop = rawOutboxLoop({ db, publisher: rawPublisher, topic: rawTopic, batch: BATCH, aggregates: AGGREGATES });
  const setupRaw = (table: string, message: 'event' | 'tiny') => rawLoop.setup(table, message, N);
  const drainRaw = rawLoop.drain;
  await setupRaw('raw_outbox_tiny', 'tiny');
  const rawInsertMs = await setupRaw('raw_outbox', 'event');
  await setupRaw('raw_outbox_warmup', 'event');
  // Warm up the raw loop's code path and connection (not measured): a cold first raw round would
  // flatter the relay.
  await drainRaw('raw_outbox_warmup', 'event', 10 * BATCH);

  // ── raw transactional write ───────────────────────────────────────────────
  // The floor of a hand-written outbox write, same 16 writers and pool: BEGIN; INSERT the command;
  // INSERT its event as an outbox row; COMMIT — no aggregate lock, no separate event table, no
  // duplicate/idempotency indexes, no validation. In two round trips like the writer's (BEGIN with
  // the first INSERT, the second INSERT with COMMIT), where the command row must exist before the
  // handler runs.
  await db.query(`CREATE TABLE raw_commands (id uuid PRIMARY KEY, session_id text NOT NULL, payload jsonb NOT NULL)`);
  await db.query(`CREATE TABLE raw_write_outbox (id bigserial PRIMARY KEY, event_id uuid NOT NULL, key text NOT NULL, payload jsonb NOT NULL, status text NOT NULL DEFAULT 'PENDING')`);
  // Named prepared statements, as the writer uses: parsed and planned once per connection (with
  // unnamed ones every INSERT was parsed again, a floor ~10 % slower than a plain client can be).
  const insertRawCommand = { name: 'bench_raw_insert_command', text: 'INSERT INTO raw_commands (id, session_id, payload) VALUES ($1, $2, $3)' };
  const insertRawOutbox = { name: 'bench_raw_insert_outbox', text: 'INSERT INTO raw_write_outbox (event_id, key, payload) VALUES ($1, $2, $3)' };
  const rawWrite = (i: number) =>
    db.transaction(
      async (tx) => {
        await tx.query(insertRawCommand, [randomUUID(), `agg-${i % AGGREGATES}`, JSON.stringify({ n: i })]);
        tx.queryAtCommit(insertRawOutbox, [randomUUID(), `agg-${i % AGGREGATES}`, JSON.stringify({ n: i })]);
      },
      { isolation: 'READ_COMMITTED' },
    );

  // ── AegisIPC writer ───────────────────────────────────────────────────────
  const writer = new OutboxWriter(db, { topic });
  const sessions = Array.from({ length: AGGREGATES }, () => randomUUID());
  const submit = (i: number) =>
    writer.submitCommand(
      { aggregateType: 'BENCH', sessionId: sessions[i % AGGREGATES] ?? '', commandType: 'ConfirmStage', payload: { n: i }, correlationId: `c-${i}`, causationId: `r-${i}` },
      () => ({ outcome: 'completed', events: [{ eventType: 'Bench.Session.StageConfirmed', payload: { n: i } }] }),
    );
  // The same commands through `recordCommand` (the outcome is known up front, so the whole
  // transaction is one message; ADR 0013 round 4). Their rows go to a topic of their own and are
  // deleted after the write rounds: the drains and the latency phase see only submitCommand's.
  const recordTopic = `${topic}-record`;
  const recordWriter = new OutboxWriter(db, { topic: recordTopic });
  const record = (i: number) =>
    recordWriter.recordCommand(
      { aggregateType: 'BENCH', sessionId: sessions[i % AGGREGATES] ?? '', commandType: 'ConfirmStage', payload: { n: i }, correlationId: `c-${i}`, causationId: `r-${i}` },
      { outcome: 'completed', events: [{ eventType: 'Bench.Session.StageConfirmed', payload: { n: i } }] },
    );
  /** `WRITERS` closed loops over the indexes [from, to). */
  const writeRange = async (from: number, to: number, one: (i: number) => Promise<unknown>): Promise<Sample> => {
    let next = from;
    const cpu = process.cpuUsage();
    const start = performance.now();
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        for (let i = next++; i < to; i = next++) await one(i);
      }),
    );
    return { rows: to - from, ms: performance.now() - start, cpuUs: cpuSince(cpu) };
  };

  // ── AegisIPC relay ────────────────────────────────────────────────────────
  const relay = new OutboxRelay(db, sink, { batchSize: BATCH });
  // The end of a drain is read from the relay's own `sent` counter (incremented after each batch
  // commits), not by counting the table every 20 ms: that query competed with the relay for the
  // database and rounded the drain up to the next 20 ms tick — the raw loop pays neither. The
  // counter is observed as it is incremented, not read every 2 ms (a timer and a registry read
  // ~50 times per drain in this process, and a 2 ms rounding of a ~150 ms window).
  let relaySentTotal = 0;
  let onRelaySent: (() => void) | undefined;
  const sentCounter = relay.metrics.sent;
  const inc = sentCounter.inc.bind(sentCounter) as (value?: number) => void;
  (sentCounter as unknown as { inc: (value?: number) => void }).inc = (value?: number) => {
    inc(value);
    relaySentTotal += value ?? 1;
    onRelaySent?.();
  };
  const relaySent = (): number => relaySentTotal;
  const relaySentReaches = (count: number): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (relaySentTotal < count) return;
        onRelaySent = undefined;
        resolve();
      };
      onRelaySent = check;
      check();
    });
  /**
   * Runs the relay until it has sent `target` more rows. The rate is timed from start() having
   * its LISTEN connection to the counter reaching the target: opening and closing that
   * connection (a new PostgreSQL connection per drain, reported as `relay_start_close_ms_rounds`)
   * is set-up the raw loop does not pay, not throughput. `drained` also counts a batch that
   * commits during close(), for the next round's target.
   */
  const drainRelay = async (target: number): Promise<RelaySample> => {
    const before = relaySent();
    const opening = performance.now();
    await relay.start();
    const cpu = process.cpuUsage();
    const start = performance.now();
    await relaySentReaches(before + target);
    const ms = performance.now() - start;
    const cpuUs = cpuSince(cpu);
    const rows = relaySent() - before;
    const closing = performance.now();
    await relay.close();
    return { rows, ms, cpuUs, drained: relaySent() - before, setupMs: start - opening + (performance.now() - closing) };
  };

  // ── interleaved rounds ────────────────────────────────────────────────────
  // Raw and AegisIPC phases alternate in ROUNDS rounds (the order flips every round), so both sides
  // of each ratio see the same machine load: on a shared machine a single raw phase and a single
  // AegisIPC phase seconds apart gave ratios from 0.5 to 1.7 for the same code. The headline
  // ratios are the medians of the per-round ratios.
  // Warm both write paths and the relay first (pool connections, prepared statements, JIT), not
  // measured, as the raw loop is: round 0 used to run the raw write floor cold on a pool with no
  // connection open yet (about a third slower in that round) and the relay cold too. The relay's
  // warm-up drains the writer's warm-up rows, so the rounds drain exactly the N measured ones.
  await writeRange(0, WARMUP, rawWrite);
  await writeRange(0, WARMUP, (i) => submit(N + LATENCY_N + i));
  await drainRelay(WARMUP);
  // After the relay's warm-up: no relay runs until their rows are deleted (their topic has no
  // stream, so a relay would only fail to publish them).
  await writeRange(0, WARMUP, (i) => record(N + LATENCY_N + i));
  const perRound = Math.ceil(N / ROUNDS);
  const rounds: Array<{ rawWrite: Sample; write: Sample; oneMessage: Sample }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    const from = r * perRound;
    const to = Math.min(N, from + perRound);
    const pair = async <T>(a: () => Promise<T>, b: () => Promise<T>): Promise<[T, T]> => {
      if (r % 2 === 0) {
        const x = await a();
        return [x, await b()];
      }
      const y = await b();
      return [await a(), y];
    };
    const [rawW, write] = await pair(
      () => writeRange(from, to, rawWrite),
      () => writeRange(from, to, submit),
    );
    // Next to the submitCommand phase it is compared with (after it, then before the next).
    const oneMessage = await writeRange(from, to, (i) => record(2 * N + LATENCY_N + WARMUP + i));
    rounds.push({ rawWrite: rawW, write, oneMessage });
  }
  await db.query('DELETE FROM event_outbox WHERE topic = $1', [recordTopic]);
  // The drains are short (a few hundred ms for all N rows), so they alternate in more, smaller
  // rounds than the writes, in ABBA order (raw, relay, relay, raw, …): a raw drain and a relay
  // drain that are compared ran next to each other, under the same load. With 3 rounds of
  // ~1,700 rows the per-round ratio swung 0.55–1.39 on this machine.
  const perDrain = Math.ceil(N / RELAY_ROUNDS);
  const drains: Array<{ rawLoop: Sample; tinyLoop: Sample; relay: RelaySample }> = [];
  for (let r = 0; r < RELAY_ROUNDS; r++) {
    const last = r === RELAY_ROUNDS - 1;
    const target = last ? N - drains.reduce((a, x) => a + x.relay.drained, 0) : perDrain;
    const rawTarget = last ? N - drains.reduce((a, x) => a + x.rawLoop.rows, 0) : perDrain;
    const tinyTarget = last ? N - drains.reduce((a, x) => a + x.tinyLoop.rows, 0) : perDrain;
    // The relay drain sits between the two raw ones, next to the raw loop it is compared with.
    if (r % 2 === 0) {
      const rawLoop = await drainRaw('raw_outbox', 'event', rawTarget);
      const relay = await drainRelay(target);
      drains.push({ rawLoop, relay, tinyLoop: await drainRaw('raw_outbox_tiny', 'tiny', tinyTarget) });
    } else {
      const tinyLoop = await drainRaw('raw_outbox_tiny', 'tiny', tinyTarget);
      const relay = await drainRelay(target);
      drains.push({ tinyLoop, relay, rawLoop: await drainRaw('raw_outbox', 'event', rawTarget) });
    }
  }
  if ((await stats(db)).sent < N + WARMUP) throw new Error('relay counted rows as sent that are not SENT in the table');
  const rate = (x: Sample): number => x.rows / (x.ms / 1000);
  const total = (xs: Sample[]): Sample => ({ rows: xs.reduce((a, x) => a + x.rows, 0), ms: xs.reduce((a, x) => a + x.ms, 0), cpuUs: xs.reduce((a, x) => a + x.cpuUs, 0) });
  /** This process's CPU µs per row over all rounds: steadier than rates on a shared machine. */
  const cpuPerRow = (xs: Sample[]): number => round(total(xs).cpuUs / total(xs).rows);
  const relayVsRaw = drains.map((x) => rate(x.relay) / rate(x.rawLoop));
  const relayVsTiny = drains.map((x) => rate(x.relay) / rate(x.tinyLoop));
  const writeVsRaw = rounds.map((x) => rate(x.write) / rate(x.rawWrite));
  const relayTotal = total(drains.map((x) => x.relay));
  await relay.start();

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
    rounds: ROUNDS,
    relay_rounds: RELAY_ROUNDS,
    raw_bulk_insert_rows_per_s: round(N / (rawInsertMs / 1000)),
    raw_loop_events_per_s: round(rate(total(drains.map((x) => x.rawLoop)))),
    raw_loop_events_per_s_rounds: drains.map((x) => round(rate(x.rawLoop))),
    raw_loop_node_cpu_us_per_event: cpuPerRow(drains.map((x) => x.rawLoop)),
    raw_loop_tiny_msg_events_per_s: round(rate(total(drains.map((x) => x.tinyLoop)))),
    raw_write_txn_per_s: round(rate(total(rounds.map((x) => x.rawWrite)))),
    raw_write_txn_per_s_rounds: rounds.map((x) => round(rate(x.rawWrite))),
    raw_write_node_cpu_us_per_txn: cpuPerRow(rounds.map((x) => x.rawWrite)),
    commands_per_s: round(rate(total(rounds.map((x) => x.write)))),
    commands_per_s_rounds: rounds.map((x) => round(rate(x.write))),
    node_cpu_us_per_command: cpuPerRow(rounds.map((x) => x.write)),
    commands_one_message_per_s: round(rate(total(rounds.map((x) => x.oneMessage)))),
    commands_one_message_per_s_rounds: rounds.map((x) => round(rate(x.oneMessage))),
    node_cpu_us_per_command_one_message: cpuPerRow(rounds.map((x) => x.oneMessage)),
    ratio_commands_vs_raw_write: round(median(writeVsRaw), 3),
    ratio_commands_vs_raw_write_rounds: writeVsRaw.map((x) => round(x, 3)),
    relay_events_per_s: round(rate(relayTotal)),
    relay_events_per_s_rounds: drains.map((x) => round(rate(x.relay))),
    relay_node_cpu_us_per_event: cpuPerRow(drains.map((x) => x.relay)),
    relay_start_close_ms_rounds: drains.map((x) => round(x.relay.setupMs)),
    ratio_relay_vs_raw_loop: round(median(relayVsRaw), 3),
    ratio_relay_vs_raw_loop_rounds: relayVsRaw.map((x) => round(x, 3)),
    ratio_relay_vs_tiny_msg_loop: round(median(relayVsTiny), 3),
    latency_samples: latencies.length,
    latency_lost: committed.size - latencies.length,
    commit_to_publish_p50_ms: round(pct(latencies, 50), 2),
    commit_to_publish_p99_ms: round(pct(latencies, 99), 2),
    commit_to_publish_max_ms: round(latencies.at(-1) ?? 0, 2),
  };
  const rows: Array<[string, string]> = [
    ['raw bulk insert (rows/s)', String(figures.raw_bulk_insert_rows_per_s)],
    ['raw SKIP LOCKED loop (events/s)', `${figures.raw_loop_events_per_s}  (Node CPU ${figures.raw_loop_node_cpu_us_per_event} µs/event)`],
    ['  same loop, {"n":1} + 1 header (events/s)', String(figures.raw_loop_tiny_msg_events_per_s)],
    ['raw BEGIN/2×INSERT/COMMIT (txn/s)', `${figures.raw_write_txn_per_s}  (Node CPU ${figures.raw_write_node_cpu_us_per_txn} µs/txn)`],
    ['AegisIPC commands (commands/s)', `${figures.commands_per_s}  (Node CPU ${figures.node_cpu_us_per_command} µs/command)`],
    ['  recordCommand, one message (commands/s)', `${figures.commands_one_message_per_s}  (Node CPU ${figures.node_cpu_us_per_command_one_message} µs/command)`],
    ['commands / raw write (median)', `${figures.ratio_commands_vs_raw_write}  rounds ${figures.ratio_commands_vs_raw_write_rounds.join(' ')}`],
    ['AegisIPC relay drain (events/s)', `${figures.relay_events_per_s}  (Node CPU ${figures.relay_node_cpu_us_per_event} µs/event)`],
    ['relay / raw loop (median)', `${figures.ratio_relay_vs_raw_loop}  rounds ${figures.ratio_relay_vs_raw_loop_rounds.join(' ')}`],
    ['relay / tiny-message loop (median)', String(figures.ratio_relay_vs_tiny_msg_loop)],
    ['commit→publish p50 (ms)', String(figures.commit_to_publish_p50_ms)],
    ['commit→publish p99 (ms)', String(figures.commit_to_publish_p99_ms)],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`outbox benchmark: ${N} commands, ${WRITERS} writers, ${AGGREGATES} aggregates, batch ${BATCH}, ${ROUNDS} interleaved write rounds, ${RELAY_ROUNDS} drain rounds`);
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
  console.log(
    JSON.stringify({
      bench: 'outbox',
      ...figures,
      summary: {
        commands_per_s: figures.commands_per_s,
        node_cpu_us_per_command: figures.node_cpu_us_per_command,
        commands_one_message_per_s: figures.commands_one_message_per_s,
        ratio_commands_vs_raw_write: figures.ratio_commands_vs_raw_write,
        relay_events_per_s: figures.relay_events_per_s,
        ratio_relay_vs_raw_loop: figures.ratio_relay_vs_raw_loop,
        ratio_relay_vs_tiny_msg_loop: figures.ratio_relay_vs_tiny_msg_loop,
        commit_to_publish_p50_ms: figures.commit_to_publish_p50_ms,
        commit_to_publish_p99_ms: figures.commit_to_publish_p99_ms,
      },
    }),
  );
} finally {
  await db.close();
  await deleteStreams(nc, [stream]);
  await nc.close();
  rawPublisher.close();
  await rawNc.close();
  await testDb.drop();
}
