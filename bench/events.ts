/**
 * `npm run bench -- events [count] [rounds]` — raw JetStream publish/consume and raw Redis
 * XADD/XREADGROUP/XACK against the AegisIPC event bus at QoS 1 and 2, in the same run, on the
 * same brokers. Each case publishes `count` events (256 publishes in flight) while one
 * subscriber consumes them; the figure is end-to-end events/s (first publish → last handled).
 * Every case moves the same payload object: the raw cases encode it per publish and decode it
 * per delivery with the same MessagePack codec the API uses (until 2026-11-22 they sent one
 * pre-encoded buffer and never decoded, so the API alone paid for serialisation).
 * Prints a table, then one JSON line with all figures and a `summary` of ratios.
 */
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { TEST_NATS_URL, connectTestNats, connectTestRedis, deleteKeysWithPrefix, deleteStreams, uniqueName } from '@aegis-ipc/testing';
import { decode, encode } from '@aegis-ipc/protocol';
import { Registry } from 'prom-client';
import { RESP_TYPES } from 'redis';
import { createRawCaller } from './_lib/raw-caller.js';
import { createEventBus, type Qos, type TransportName } from '@aegis-ipc/sdk';

// 20 000 per case: at 5 000 a case lasted a fraction of a second, dominated by warm-up, and the
// ratios swung by ±50 % between runs on a shared machine.
const COUNT = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const WINDOW = 256;
const CONCURRENCY = 64;
const payload = { order_id: 'ord-000123', amount_cents: 4200, currency: 'EUR', items: [{ sku: 'A-1', qty: 2 }] };

const nc = await connectTestNats('aegis-bench-events');
// The raw JetStream case publishes the way a tuned plain nats.js loop does (bench/_lib/raw-caller):
// one reply subscription, a correlation id per publish, the PubAck checked. `js.publish()` goes
// through `nc.request()`, which builds Error objects for every message even with `noAsyncTraces`
// (RequestOne.cancel) - a cost the API's own publish-ack path avoids (ADR 0023), so the floor
// must avoid it too.
const rawNc = await connect({ servers: TEST_NATS_URL, name: 'aegis-bench-events-raw', noAsyncTraces: true });
const rawPublisher = createRawCaller(rawNc);
const redis = await connectTestRedis();
const id = uniqueName('bench');
const streams: string[] = [];

/** Runs `fn(i)` for i < n with at most `window` in flight. */
async function pump(n: number, window: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

function until(done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      if (done()) {
        clearInterval(t);
        resolve();
      }
    }, 2);
  });
}

async function rawNats(): Promise<number> {
  const run = uniqueName('raw');
  const name = run.toUpperCase();
  streams.push(name);
  const jsm = await jetstreamManager(rawNc);
  await jsm.streams.add({ name, subjects: [`${run}.raw.>`] });
  await jsm.consumers.add(name, { durable_name: 'c', ack_policy: AckPolicy.Explicit, max_ack_pending: 1000 });
  const js = jetstream(rawNc);
  let got = 0;
  const messages = await (await js.consumers.get(name, 'c')).consume({ max_messages: CONCURRENCY * 2 });
  // Acks of one event-loop turn are written together (one socket write), as the API's durable
  // subscriptions do; acking each in its own continuation costs a write per message.
  let acks: JsMsg[] = [];
  const writeAcks = () => {
    const batch = acks;
    acks = [];
    for (const m of batch) m.ack();
  };
  const loop = (async () => {
    for await (const m of messages) {
      decode(m.data);
      if (acks.push(m) === 1) setImmediate(writeAcks);
      if (++got === COUNT) break;
    }
  })();
  const start = performance.now();
  await pump(COUNT, WINDOW, () => rawPublisher.publishJetStream(`${run}.raw.orders`, encode(payload), 30_000));
  await loop;
  const rate = COUNT / ((performance.now() - start) / 1000);
  await messages.close();
  return rate;
}

/** XADD of every argument to KEYS[1] (the raw floor's batch; node-redis sends Buffers as bulk strings). */
const RAW_XADD_MANY = "for _, d in ipairs(ARGV) do redis.call('XADD', KEYS[1], 'MAXLEN', '~', '100000', '*', 'd', d) end return #ARGV";

async function rawRedis(): Promise<number> {
  const key = `${id}:${uniqueName('raw')}`;
  await redis.xGroupCreate(key, 'g', '$', { MKSTREAM: true });
  const reader = redis.duplicate();
  await reader.connect();
  const binary = reader.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  let got = 0;
  // The XACK of one batch goes out on the other connection while the next XREADGROUP blocks (as
  // the API does); awaiting it before reading again cost the raw side a round trip per batch.
  const acks: Array<Promise<unknown>> = [];
  const loop = (async () => {
    while (got < COUNT) {
      const res = (await binary.xReadGroup('g', 'c', { key, id: '>' }, { COUNT: CONCURRENCY * 2, BLOCK: 1000 })) as Array<{
        messages: Array<{ id: Buffer; message: { d: Buffer } }>;
      }> | null;
      const ids: string[] = [];
      for (const s of res ?? []) {
        for (const m of s.messages) {
          decode(m.message.d);
          ids.push(m.id.toString());
        }
      }
      if (ids.length > 0) acks.push(redis.xAck(key, 'g', ids));
      got += ids.length;
    }
    await Promise.all(acks);
  })();
  // The XADDs of one event-loop turn go out as one script call (EVALSHA; one command, one reply,
  // one promise for the batch), which is how the API batches them. One plain XADD per event costs
  // node-redis an abort timer and a promise each, and a MULTI pipeline still one reply per XADD:
  // measured 2.3× and 1.5× slower than this on this machine, so neither is the floor (ADR 0025).
  const sha = String(await redis.scriptLoad(RAW_XADD_MANY));
  let queued: Array<{ d: Buffer; done: () => void; fail: (err: unknown) => void }> = [];
  const writeQueued = () => {
    const batch = queued;
    queued = [];
    redis.evalSha(sha, { keys: [key], arguments: batch.map((q) => q.d) as unknown as string[] }).then(
      () => {
        for (const q of batch) q.done();
      },
      (err: unknown) => {
        for (const q of batch) q.fail(err);
      },
    );
  };
  const xadd = (d: Buffer) =>
    new Promise<void>((done, fail) => {
      if (queued.push({ d, done, fail }) === 1) setImmediate(writeQueued);
    });
  const start = performance.now();
  await pump(COUNT, WINDOW, () => xadd(Buffer.from(encode(payload))));
  await loop;
  const rate = COUNT / ((performance.now() - start) / 1000);
  await reader.close();
  return rate;
}

async function api(transport: TransportName, qos: Qos): Promise<number> {
  const names = uniqueName('bapi');
  streams.push(names.toUpperCase(), `${names.toUpperCase()}_DLQ`, `KV_${names.toUpperCase()}_DEDUPE`);
  const bus = await createEventBus({
    nats: nc,
    redis,
    registry: new Registry(),
    defaultTransport: transport,
    stream: names.toUpperCase(),
    subjectPrefix: `${names}.evt`,
    redisKeyPrefix: `${id}:${names}`,
  });
  let got = 0;
  await bus.subscribe('orders.created', () => void got++, { qos, concurrency: CONCURRENCY });
  const start = performance.now();
  await pump(COUNT, WINDOW, () => bus.publish('orders.created', payload, { qos }));
  await until(() => got >= COUNT);
  const rate = COUNT / ((performance.now() - start) / 1000);
  await bus.close();
  return rate;
}

// The machine is shared: run the cases interleaved, several rounds, and keep each case's median,
// so a burst of someone else's load does not land on one side of a ratio only.
const CASES: Record<string, () => Promise<number>> = {
  raw_nats: rawNats,
  nats_qos1: () => api('nats', 1),
  nats_qos2: () => api('nats', 2),
  raw_redis: rawRedis,
  redis_qos1: () => api('redis', 1),
  redis_qos2: () => api('redis', 2),
};
// `EVENTS_CASES=nats_qos1,raw_nats` runs a subset (for profiling one case with --cpu-prof).
const only = process.env.EVENTS_CASES?.split(',');
if (only !== undefined) for (const name of Object.keys(CASES)) if (!only.includes(name)) delete CASES[name];
const samples: Record<string, number[]> = {};
// CPU time of this process per event (publisher + subscriber): steadier than wall time when
// other work shares the cores, and it shows what the API itself adds.
const cpuSamples: Record<string, number[]> = {};
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(CASES)) {
      const before = process.cpuUsage();
      (samples[name] ??= []).push(await run());
      const used = process.cpuUsage(before);
      (cpuSamples[name] ??= []).push((used.user + used.system) / COUNT);
    }
  }
} finally {
  await deleteStreams(nc, streams);
  await deleteKeysWithPrefix(redis, `${id}:`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const results: Record<string, number> = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
const cpu: Record<string, number> = Object.fromEntries(Object.entries(cpuSamples).map(([k, v]) => [k, Math.round(median(v))]));

const ratio = (a: number | undefined, b: number | undefined) => Math.round(((a ?? 0) / (b ?? 1)) * 100) / 100;
const summary = {
  ratio_nats_qos1_vs_raw: ratio(results.nats_qos1, results.raw_nats),
  ratio_nats_qos2_vs_raw: ratio(results.nats_qos2, results.raw_nats),
  ratio_redis_qos1_vs_raw: ratio(results.redis_qos1, results.raw_redis),
  ratio_redis_qos2_vs_raw: ratio(results.redis_qos2, results.raw_redis),
};
const rows: Array<[string, string]> = [
  ['raw JetStream publish+consume', 'raw_nats'],
  ['AegisIPC NATS QoS 1', 'nats_qos1'],
  ['AegisIPC NATS QoS 2', 'nats_qos2'],
  ['raw Redis XADD/XREADGROUP/XACK', 'raw_redis'],
  ['AegisIPC Redis QoS 1', 'redis_qos1'],
  ['AegisIPC Redis QoS 2', 'redis_qos2'],
];
console.log(`events: ${COUNT} events per case, median of ${ROUNDS} interleaved rounds, ${WINDOW} publishes in flight, subscriber concurrency ${CONCURRENCY}`);
console.log(`${'case'.padEnd(34)}${'events/s'.padStart(10)}${'vs raw'.padStart(9)}${'cpu µs/event'.padStart(14)}`);
for (const [label, key] of rows) {
  const raw = key.includes('nats') ? results.raw_nats : results.raw_redis;
  console.log(`${label.padEnd(34)}${String(Math.round(results[key] ?? 0)).padStart(10)}${ratio(results[key], raw).toFixed(2).padStart(9)}${String(cpu[key] ?? 0).padStart(14)}`);
}
await nc.close();
rawPublisher.close();
await rawNc.close();
await redis.close();
console.log(
  JSON.stringify({ bench: 'events', count: COUNT, rounds: ROUNDS, window: WINDOW, concurrency: CONCURRENCY, events_per_s: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Math.round(v)])), cpu_us_per_event: cpu, summary }),
);
