/**
 * `npm run bench -- routing` — routed-call throughput and latency against raw NATS baselines
 * measured in the same run (issue 3 "Performance"):
 *
 * 1. raw 1 hop: plain nats.js request-reply to one responder (one reply subscription, correlation ids);
 * 2. raw 2 hops: caller → minimal forwarder (one reply subscription, correlation ids) → responder;
 * 3. AegisIPC: `client.call()` → router → echo instance → back.
 *
 * Each at concurrency 1/16/64/256 × payload 100 B/1 KB (closed loop, the three paths interleaved
 * per row so drift in the machine's load hits all three alike), then a paced run of
 * 1,000 req/s from 100 callers with 1 KB payloads (AegisIPC, and raw 2-hop for reference), then
 * a paced stress run of 10,000 req/s from 200 callers with 1 KB payloads (AegisIPC; SPEC RT-7
 * "stress to 10,000 req/s": does the rate hold, does every call succeed).
 * Prints a table and, last, one JSON line with everything and a `summary`.
 *
 * Optional: BENCH_WINDOW_MS (measured window per row, default 2500), BENCH_PACED_MS (15000),
 * BENCH_STRESS_MS (5000).
 */
import './_lib/bench-namespace.js';
import { connect as natsConnect } from '@nats-io/transport-node';
import { loadavg } from 'node:os';
import { connect } from '@aegis-ipc/sdk';
import { waitFor } from '@aegis-ipc/testing';
import { startBenchProcesses } from './_lib/bench-processes.js';
import { PATHS, benchCall, type CallTargets } from './_lib/bench-calls.js';
import { runClosedLoop } from './_lib/closed-loop.js';
import { createRawCaller } from './_lib/raw-caller.js';
import { CpuMeter, sharedCpuSources } from './_lib/process-cpu.js';
import { runPaced } from './_lib/paced-load.js';
import { printJsonLine, printPaced, printTable, type BenchRow, type BenchSettings } from './_lib/bench-report.js';

const settings: BenchSettings = {
  windowMs: Number(process.env.BENCH_WINDOW_MS ?? 2_500),
  warmupMs: 500,
  concurrencies: [1, 16, 64, 256],
  payloads: [100, 1024],
  paced: { ratePerSec: 1_000, callers: 100, durationMs: Number(process.env.BENCH_PACED_MS ?? 15_000), payloadBytes: 1024 },
  stress: { ratePerSec: 10_000, callers: 200, durationMs: Number(process.env.BENCH_STRESS_MS ?? 5_000), payloadBytes: 1024 },
};
const RAW_PACED_MS = 5_000;
const TOPOLOGY =
  'one process per role for every path: caller = this process; raw forwarder or AegisIPC router = child process; ' +
  'raw responder or echo instance (examples/echo) = child process; NATS = the shared local server';

const started = performance.now();
const loadBefore = loadavg();
const log = (line: string) => process.stderr.write(`${line}\n`);

log('starting raw responder, raw forwarder, router and one echo instance…');
const processes = await startBenchProcesses();
const nc = await natsConnect({ servers: processes.natsUrl, name: 'bench-raw-caller' });
const raw = createRawCaller(nc);
const client = await connect({ servers: processes.natsUrl, name: 'bench-aegis-caller' });
try {
  const targets: CallTargets = { raw, client, ...processes };
  // The router learns of the instance through its registry; wait until a call gets through.
  await waitFor(async () => (await benchCall('aegis', targets, 100)(0), true), { timeoutMs: 15_000, what: 'the first routed call to succeed' });

  // CPU per call of the processes on each path: caller (this one), the middle hop, the responder.
  const { pids } = processes;
  // Plus the NATS server and the whole machine (kernel included): the ratio follows their sum.
  const shared = sharedCpuSources();
  const meters = {
    raw_1hop: new CpuMeter({ caller: 'self', end: pids.rawResponder, ...shared }),
    raw_2hop: new CpuMeter({ caller: 'self', hop: pids.rawForwarder, end: pids.rawResponder, ...shared }),
    aegis: new CpuMeter({ caller: 'self', hop: pids.router, end: pids.echo, ...shared }),
  } as const;
  const rows: BenchRow[] = [];
  for (const payload of settings.payloads) {
    for (const concurrency of settings.concurrencies) {
      for (const path of PATHS) {
        const before = meters[path].snapshot();
        const stats = await runClosedLoop(benchCall(path, targets, payload), { concurrency, durationMs: settings.windowMs, warmupMs: settings.warmupMs });
        const cpu = CpuMeter.perCall<string>(before, meters[path].snapshot(), stats.calls_total ?? 0);
        rows.push({ path, payload_bytes: payload, concurrency, ...stats, cpu_us_per_call: cpu });
        log(`${path} ${payload} B c=${concurrency}: ${Math.round(stats.rps)} req/s p50 ${stats.p50_ms.toFixed(3)} ms p99 ${stats.p99_ms.toFixed(3)} ms errors ${stats.errors}`);
      }
    }
  }
  const pacedOptions = { ratePerSec: settings.paced.ratePerSec, callers: settings.paced.callers };
  const aegisPaced = await runPaced(benchCall('aegis', targets, settings.paced.payloadBytes), { ...pacedOptions, durationMs: settings.paced.durationMs });
  const rawPaced = await runPaced(benchCall('raw_2hop', targets, settings.paced.payloadBytes), { ...pacedOptions, durationMs: RAW_PACED_MS });
  const { payloadBytes: stressBytes, ...stressOptions } = settings.stress;
  const stress = await runPaced(benchCall('aegis', targets, stressBytes), stressOptions);

  printTable(rows);
  printPaced('aegis', aegisPaced);
  printPaced('raw_2hop', rawPaced);
  printPaced('aegis stress', stress);
  printJsonLine({ settings, topology: TOPOLOGY, rows, paced: { aegis: aegisPaced, raw_2hop: rawPaced }, stress, loadBefore, durationS: (performance.now() - started) / 1000 });
} finally {
  await client.close();
  raw.close();
  await nc.close();
  await processes.close();
}
