/**
 * Focused routing driver (ADR 0031 round 4): only the c=64 closed-loop rows of raw 2-hop and
 * AegisIPC, interleaved, each with CPU µs per call and write/read syscalls per call of the three
 * processes (caller | forwarder or router | responder or instance | NATS server, and the whole
 * machine's busy CPU), from `/proc`; optionally a
 * paced run. Same processes and calls as `npm run bench -- routing`, fewer cases, so before/after
 * runs can alternate more often in the same window of a shared machine's load.
 *
 *   FOCUS_WINDOWS=3 FOCUS_WINDOW_MS=3000 FOCUS_PAYLOADS=100,1024 FOCUS_PATHS=raw_2hop,aegis \
 *   FOCUS_C=64 FOCUS_PACED_MS=0 node --conditions=source --import tsx bench/routing-focus.ts
 *
 * Every loop is bounded by its window; the children are stopped in `finally`.
 */
import './_lib/bench-namespace.js';
import { connect as natsConnect } from '@nats-io/transport-node';
import { connect } from '@aegis-ipc/sdk';
import { waitFor } from '@aegis-ipc/testing';
import { startBenchProcesses } from './_lib/bench-processes.js';
import { benchCall, type CallTargets } from './_lib/bench-calls.js';
import { runClosedLoop } from './_lib/closed-loop.js';
import { createRawCaller } from './_lib/raw-caller.js';
import { CpuMeter, sharedCpuSources } from './_lib/process-cpu.js';
import { runPaced } from './_lib/paced-load.js';
import { readFileSync } from 'node:fs';

/** Write and read syscalls of a process so far (/proc/<pid>/io), to count socket writes per call. */
function sysc(pid: number | 'self'): [number, number] {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return [Number(/syscw: (\d+)/.exec(io)?.[1]), Number(/syscr: (\d+)/.exec(io)?.[1])];
}

const windows = Number(process.env.FOCUS_WINDOWS ?? 3);
const windowMs = Number(process.env.FOCUS_WINDOW_MS ?? 3000);
const payloads = (process.env.FOCUS_PAYLOADS ?? '100,1024').split(',').map(Number);
const pacedMs = Number(process.env.FOCUS_PACED_MS ?? 0);
const paths = (process.env.FOCUS_PATHS ?? 'raw_2hop,aegis').split(',') as Array<'raw_2hop' | 'aegis'>;
const concurrency = Number(process.env.FOCUS_C ?? 64);

const processes = await startBenchProcesses();
const nc = await natsConnect({ servers: processes.natsUrl, name: 'focus-raw-caller' });
const raw = createRawCaller(nc);
const client = await connect({ servers: processes.natsUrl, name: 'focus-aegis-caller' });
try {
  const targets: CallTargets = { raw, client, ...processes };
  await waitFor(async () => (await benchCall('aegis', targets, 100)(0), true), { timeoutMs: 15_000, what: 'first routed call' });
  const { pids } = processes;
  const shared = sharedCpuSources();
  const meters = {
    raw_2hop: new CpuMeter({ caller: 'self', hop: pids.rawForwarder, end: pids.rawResponder, ...shared }),
    aegis: new CpuMeter({ caller: 'self', hop: pids.router, end: pids.echo, ...shared }),
  } as const;
  // FOCUS_BLOCKS=1: every window of one payload before the next payload, as the full bench orders
  // its rows (a process's JIT state after a block of one payload can differ from interleaved).
  const order = process.env.FOCUS_BLOCKS === '1' ? payloads.flatMap((p) => Array.from({ length: windows }, () => p)) : Array.from({ length: windows }, () => payloads).flat();
  {
    for (const payload of order) {
      for (const path of paths) {
        const before = meters[path].snapshot();
        const ioPids = path === 'aegis' ? (['self', pids.router, pids.echo] as const) : (['self', pids.rawForwarder, pids.rawResponder] as const);
        const ioBefore = ioPids.map(sysc);
        const stats = await runClosedLoop(benchCall(path, targets, payload), { concurrency, durationMs: windowMs, warmupMs: 500 });
        const cpu = CpuMeter.perCall<string>(before, meters[path].snapshot(), stats.calls_total ?? 0);
        const n = stats.calls_total ?? 1;
        const io = ioPids.map(sysc).map(([w, r], i) => `${((w - (ioBefore[i] as [number, number])[0]) / n).toFixed(2)}/${((r - (ioBefore[i] as [number, number])[1]) / n).toFixed(2)}`);
        process.stdout.write(
          `${path} ${payload}B c${concurrency}: ${Math.round(stats.rps)} rps p50 ${stats.p50_ms.toFixed(2)} p99 ${stats.p99_ms.toFixed(2)} err ${stats.errors} cpu ${cpu.caller}|${cpu.hop}|${cpu.end}|${cpu.nats ?? '-'} machine ${cpu.machine ?? '-'} w/r per call ${io.join(' | ')}\n`,
        );
      }
    }
  }
  if (pacedMs > 0) {
    const p = await runPaced(benchCall('aegis', targets, 1024), { ratePerSec: 1000, callers: 100, durationMs: pacedMs });
    process.stdout.write(`paced aegis: p50 ${p.p50_ms.toFixed(2)} p99 ${p.p99_ms.toFixed(2)} max ${p.max_ms.toFixed(2)} ok ${p.ok}/${p.sent}\n`);
    const r = await runPaced(benchCall('raw_2hop', targets, 1024), { ratePerSec: 1000, callers: 100, durationMs: Math.min(pacedMs, 5000) });
    process.stdout.write(`paced raw_2hop: p50 ${r.p50_ms.toFixed(2)} p99 ${r.p99_ms.toFixed(2)} max ${r.max_ms.toFixed(2)} ok ${r.ok}/${r.sent}\n`);
  }
} finally {
  await client.close();
  raw.close();
  await nc.close();
  await processes.close();
}
