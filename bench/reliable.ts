/**
 * `npm run bench -- reliable` — exactly-once calls against the raw JetStream loop they are built
 * from, in one run, on the same NATS: raw = publish with `Nats-Msg-Id` + publish ack (through the
 * bench's raw caller: one reply subscription, no nc.request()) → durable
 * pull consumer → ack → reply on core NATS; AegisIPC = `client.callReliable` with a
 * `ReliableReceiver` (`idempotency: { statusRecord: true }`: one JetStream KV record per message
 * id as claim, state and response — ADR 0053 — and the EO-2 ACK). Closed loops at
 * concurrency 1/16/64. Prints a table, then one JSON line with every figure and
 * `summary.ratio_rps_vs_raw_jetstream_c16`. Env: BENCH_SECONDS (per run, default 8),
 * BENCH_WARMUP_SECONDS (default 2). Streams, buckets and consumers are removed at the end.
 */
import './_lib/bench-namespace.js';
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect, headers as natsHeaders } from '@nats-io/transport-node';
import { pino } from 'pino';
import { NAMESPACE, decode, encode, newMessageId } from '@aegis-ipc/protocol';
import { Router } from '@aegis-ipc/router';
import { createRawCaller } from './_lib/raw-caller.js';
import { MESSAGE_STATUS_BUCKET, RELIABLE_DLQ_STREAM, RELIABLE_STREAM, ReliableReceiver, connect } from '@aegis-ipc/sdk';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const LEVELS = [1, 16, 64] as const;
const silent = pino({ level: 'silent' });
const RAW_STREAM = `${NAMESPACE}_RAWBENCH`;
const REGISTRY_BUCKET = `${NAMESPACE}_benchreg`;

interface Row { path: string; concurrency: number; ok: number; errors: number; rps: number; p50_ms: number; p99_ms: number }

/** Closed loop: `concurrency` workers call back to back; only calls finishing after the warm-up count. */
async function closedLoop(path: string, concurrency: number, call: () => Promise<void>): Promise<Row> {
  const start = performance.now();
  const measureFrom = start + WARMUP * 1000;
  const end = measureFrom + SECONDS * 1000;
  const samples: number[] = [];
  let errors = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await call();
          const t1 = performance.now();
          if (t1 >= measureFrom && t1 < end) samples.push(t1 - t0);
        } catch {
          if (performance.now() >= measureFrom) errors++;
        }
      }
    }),
  );
  samples.sort((a, b) => a - b);
  const pct = (q: number) => Math.round((samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0) * 100) / 100;
  return { path, concurrency, ok: samples.length, errors, rps: Math.round(samples.length / SECONDS), p50_ms: pct(0.5), p99_ms: pct(0.99) };
}

const nc = await natsConnect({ servers: NATS_URL, name: 'bench-reliable' });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
const router = await Router.start({ natsUrl: NATS_URL, embeddedNats: 'never', http: false, registryBucket: REGISTRY_BUCKET, logger: silent });
const server = await connect({ servers: NATS_URL, logger: silent });
const caller = await connect({ servers: NATS_URL, logger: silent });
const rows: Row[] = [];
try {
  // ── raw JetStream baseline ────────────────────────────────────────────────
  await jsm.streams.add({ name: RAW_STREAM, subjects: [`${NAMESPACE}.rawbench.>`], retention: RetentionPolicy.Workqueue, storage: StorageType.File, duplicate_window: 600_000_000_000 });
  await jsm.consumers.add(RAW_STREAM, { durable_name: 'raw', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ack_wait: 30_000_000_000, max_deliver: 5 });
  const rawMessages = await (await js.consumers.get(RAW_STREAM, 'raw')).consume({ max_messages: 128 });
  const rawLoop = (async () => {
    for await (const m of rawMessages) {
      const params = decode(m.data) as { n: number };
      m.ack();
      nc.publish(m.headers?.get('Reply-To') ?? '', encode({ n: params.n * 2 }));
    }
  })();
  const replyPrefix = `${NAMESPACE}.rawreply`;
  const waiting = new Map<string, () => void>();
  const replies = nc.subscribe(`${replyPrefix}.>`, { callback: (_err, m) => waiting.get(m.subject.slice(replyPrefix.length + 1))?.() });
  // Publishes as a tuned plain nats.js loop does: one reply subscription and the PubAck checked,
  // not js.publish(), whose nc.request() builds Error objects per message that the SDK's own
  // publisher (which callReliable uses) does not pay.
  const rawPublisher = createRawCaller(nc);
  const raw = async () => {
    const id = newMessageId();
    const h = natsHeaders();
    h.set('Nats-Msg-Id', id);
    h.set('Reply-To', `${replyPrefix}.${id}`);
    const answered = new Promise<void>((resolve) => waiting.set(id, resolve));
    await rawPublisher.publishJetStream(`${NAMESPACE}.rawbench.calc`, encode({ n: 2 }), 30_000, h);
    await answered;
    waiting.delete(id);
  };

  // ── AegisIPC callReliable ─────────────────────────────────────────────────
  const instance = await server.register('bench-calc', 'bench-calc-1');
  instance.handle('double', ({ n }) => ({ n: Number(n) * 2 }));
  const receiver = await ReliableReceiver.start(instance, { idempotency: { statusRecord: true }, concurrency: 64, logger: silent });
  const aegis = async () => {
    await caller.callReliable('bench-calc', 'double', { n: 2 });
  };

  for (const c of LEVELS) {
    rows.push(await closedLoop('raw_jetstream', c, raw));
    rows.push(await closedLoop('aegis_reliable', c, aegis));
  }
  replies.unsubscribe();
  rawPublisher.close();
  await rawMessages.close();
  await rawLoop;
  await receiver.close();
} finally {
  await caller.close();
  await server.close();
  await router.close();
  for (const s of [RAW_STREAM, RELIABLE_STREAM, RELIABLE_DLQ_STREAM, `KV_${MESSAGE_STATUS_BUCKET}`, `KV_${REGISTRY_BUCKET}`]) await jsm.streams.delete(s).catch(() => undefined);
  await nc.close();
}

const line = (cells: readonly (string | number)[]) => cells.map((c, i) => String(c).padEnd(i === 0 ? 16 : 11)).join('');
console.log(line(['path', 'concurrency', 'req/s', 'p50 ms', 'p99 ms', 'errors']));
for (const r of rows) console.log(line([r.path, r.concurrency, r.rps, r.p50_ms, r.p99_ms, r.errors]));
const rps = (path: string, c: number) => rows.find((r) => r.path === path && r.concurrency === c)?.rps ?? 0;
const ratio = (c: number) => (rps('raw_jetstream', c) === 0 ? 0 : Math.round((rps('aegis_reliable', c) / rps('raw_jetstream', c)) * 1000) / 1000);
console.log(JSON.stringify({
  bench: 'reliable',
  settings: { seconds: SECONDS, warmup_seconds: WARMUP, levels: LEVELS, dedupe: 'jetstream_kv_status_record', nats: NATS_URL },
  rows,
  summary: { ratio_rps_vs_raw_jetstream_c1: ratio(1), ratio_rps_vs_raw_jetstream_c16: ratio(16), ratio_rps_vs_raw_jetstream_c64: ratio(64) },
}));
