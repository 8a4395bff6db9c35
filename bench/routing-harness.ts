/**
 * In-process JS cost per routed call of ONE side — caller, router or instance — fed by a fake
 * NATS connection (no sockets, no other processes), so what the side's own code costs shows
 * without the scheduler noise of the full benchmark on a shared machine (ADR 0031 rounds 3–4).
 * Each side runs in its own process (`HARNESS_SIDE`), since a side's retained memory (e.g. the
 * router's trace buffer) changes every GC of the process it lives in. Prints the median, min and
 * max µs per call over rounds of 64 concurrent calls.
 *
 *   HARNESS_SIDE=router node --max-semi-space-size=64 --conditions=source --import tsx bench/routing-harness.ts [payload bytes]
 *
 * To compare two trees, copy this file into the other tree's bench/ and alternate the runs, several
 * processes per tree. With V8's default young generation a process sometimes falls into promotion
 * storms (`--trace-gc-nvp`: ~420 MB promoted in a run instead of ~27 MB, the same code either way)
 * and then reports ~50 % more per call for its whole life; `--max-semi-space-size=64` makes that
 * rare, and the lower of two modes is the code's cost (ADR 0031 round 5).
 */
import { pino } from 'pino';
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { SUBJECTS, encode, newTraceId } from '@aegis-ipc/protocol';
import { ReplyMux } from '../packages/sdk/src/transport/reply-mux.js';
import { callService } from '../packages/sdk/src/call/call-service.js';
import { InboxServer } from '../packages/sdk/src/instance/inbox-server.js';
import { MethodTable } from '../packages/sdk/src/instance/method-table.js';
import { RouteService } from '../packages/router/src/routing/route-service.js';
import { Registry } from '../packages/router/src/registry/registry.js';
import { RouterMetrics } from '../packages/router/src/metrics/router-metrics.js';
import type { HealthMonitor } from '../packages/router/src/health/health-monitor.js';
import type { StoreChange } from '../packages/router/src/registry/registry-store.js';

const payload = Number(process.argv[2] ?? 100);
const side = process.env.HARNESS_SIDE ?? 'router';
const BATCH = 64;
const BATCHES = 1_500;
const ROUNDS = 7;

type Callback = (err: Error | null, msg: Msg) => void;

/** Just what the three sides call on a connection; publishes are collected for the harness to answer. */
class FakeConnection {
  readonly subs = new Map<string, Callback>();
  published: Array<{ subject: string; data: Uint8Array; reply: string | undefined }> = [];
  readonly info = { max_payload: 1024 * 1024 };

  subscribe(subject: string, opts: { callback: Callback }) {
    this.subs.set(subject, opts.callback);
    return { unsubscribe: () => this.subs.delete(subject) };
  }

  publish(subject: string, data: Uint8Array, opts?: { reply?: string; headers?: { encode(): Uint8Array } }): void {
    opts?.headers?.encode(); // what nats.js does with a header block
    this.published.push({ subject, data, reply: opts?.reply });
  }

  isClosed(): boolean {
    return false;
  }

  /** Hands a message to the subscription on `sub`, as nats.js's parser would. */
  deliver(sub: string, subject: string, data: Uint8Array, reply?: string): void {
    const callback = this.subs.get(sub);
    if (callback === undefined) throw new Error(`nothing subscribed to ${sub}`);
    const msg = { subject, reply, data, headers: undefined, respond: (d: Uint8Array) => (this.publish(reply ?? '', d), true) };
    callback(null, msg as unknown as Msg);
  }

  asNats(): NatsConnection {
    return this as unknown as NatsConnection;
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const logger = pino({ level: 'silent' });
const service = 'bench_16ef684052';
const instanceId = `${service}-echo-1`;
const params = { seq: 1, data: 'x'.repeat(Math.max(0, payload - 20)) };
const replyBody = encode({ result: { ...params, instance_id: instanceId } });
const envelopes = Array.from({ length: 1024 }, () => encode({ service_name: service, method: 'echo', params, timeout: 5.25, trace_id: newTraceId() }));
const only = (nc: FakeConnection, except?: string): string => [...nc.subs.keys()].find((s) => s !== except) ?? '';

function callerSide(): (k: number) => Promise<void> {
  const nc = new FakeConnection();
  const mux = new ReplyMux(nc.asNats());
  mux.start();
  const sub = only(nc);
  return async () => {
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < BATCH; i++) calls.push(callService(nc.asNats(), mux, service, 'echo', params, { timeoutMs: 5_000 }));
    const sent = nc.published;
    nc.published = [];
    for (const p of sent) nc.deliver(sub, p.reply ?? '', replyBody);
    await Promise.all(calls);
  };
}

function routerSide(): (k: number) => Promise<void> {
  const nc = new FakeConnection();
  const registry = new Registry();
  const now = new Date().toISOString();
  const record = { service_name: service, instance_id: instanceId, session_id: 's1', status: 'ONLINE', status_reason: '', registered_at: now, updated_at: now, metadata: {}, heartbeat_interval_ms: 1_000 };
  registry.apply({ kind: 'put', stored: { revision: 1, record } } as unknown as StoreChange);
  const health = { markUnhealthy: () => undefined } as unknown as HealthMonitor;
  const options = {
    routeStrategy: 'round_robin', routeAttemptTimeoutMs: 5_000, routeTotalTimeoutMs: 15_000, routeMaxAttempts: 3, routeMaxHops: 3,
    instanceTimeoutsUnhealthy: 3, breakerOpenMs: 30_000, fallbacks: {}, traceBufferSize: Number(process.env.AEGIS_TRACE_BUFFER_SIZE ?? 10_000),
  };
  new RouteService(nc.asNats(), registry, health, new RouterMetrics(registry), options, logger).start();
  const requests = SUBJECTS.routeRequest;
  const replies = only(nc, requests);
  return async (k) => {
    for (let i = 0; i < BATCH; i++) nc.deliver(requests, requests, envelopes[(k * BATCH + i) & 1023] as Uint8Array, `_INBOX.caller.${i}`);
    const forwarded = nc.published;
    nc.published = [];
    for (const p of forwarded) nc.deliver(replies, p.reply ?? '', replyBody);
    await tick();
    if (nc.published.length !== BATCH) throw new Error(`the router answered ${nc.published.length} of ${BATCH}`);
    nc.published = [];
  };
}

function instanceSide(): (k: number) => Promise<void> {
  const nc = new FakeConnection();
  const table = new MethodTable();
  // The echo example's handler.
  table.set('echo', async (p: Record<string, unknown>) => Promise.resolve({ ...p, instance_id: instanceId }));
  new InboxServer(nc.asNats(), table, { serviceName: service, instanceId, logger }).start();
  const inbox = only(nc);
  return async (k) => {
    for (let i = 0; i < BATCH; i++) nc.deliver(inbox, inbox, envelopes[(k * BATCH + i) & 1023] as Uint8Array, `_INBOX.router.${i}`);
    await tick();
    if (nc.published.length !== BATCH) throw new Error(`the instance answered ${nc.published.length} of ${BATCH}`);
    nc.published = [];
  };
}

const run = side === 'caller' ? callerSide() : side === 'instance' ? instanceSide() : routerSide();
const perCall: number[] = [];
const cpuPerCall: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let k = 0; k < BATCHES; k++) await run(k);
  // The first round warms up (JIT, pools) and is not counted.
  if (round > 0) {
    perCall.push(((performance.now() - started) * 1000) / (BATCHES * BATCH));
    // CPU time moves less than wall time when other processes share the cores (ADR 0031 round 5).
    const used = process.cpuUsage(cpu);
    cpuPerCall.push((used.user + used.system) / (BATCHES * BATCH));
  }
}
perCall.sort((a, b) => a - b);
cpuPerCall.sort((a, b) => a - b);
const fmt = (n: number | undefined) => (n ?? NaN).toFixed(2);
const median = (list: number[]) => list[list.length >> 1];
process.stdout.write(
  `${side} ${payload} B: median ${fmt(median(perCall))} µs/call (min ${fmt(perCall[0])}, max ${fmt(perCall.at(-1))}); CPU median ${fmt(median(cpuPerCall))} µs/call (min ${fmt(cpuPerCall[0])}, max ${fmt(cpuPerCall.at(-1))})\n`,
);
