/**
 * Output of the routing benchmark: a human table, then (last line, for scripts and the issue
 * note) one JSON object with every figure and a `summary`.
 */
import { cpus, loadavg } from 'node:os';
import type { BenchPath } from './bench-calls.js';
import type { LoadStats } from './latency-stats.js';
import type { PacedStats } from './paced-load.js';

export interface BenchRow extends LoadStats {
  readonly path: BenchPath;
  readonly payload_bytes: number;
  readonly concurrency: number;
  /** CPU µs per call of the caller, the middle hop (forwarder/router) and the responder/instance. */
  readonly cpu_us_per_call: Partial<Record<string, number>>;
}

const round = (n: number, digits = 3) => Number(n.toFixed(digits));

export function printTable(rows: readonly BenchRow[]): void {
  const header = ['path', 'payload', 'conc', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'vs raw 2-hop', 'cpu µs/call caller|hop|end|nats', 'machine'];
  const lines = rows.map((r) => {
    const raw2 = rows.find((x) => x.path === 'raw_2hop' && x.payload_bytes === r.payload_bytes && x.concurrency === r.concurrency);
    const ratio = raw2 && raw2.rps > 0 ? (r.rps / raw2.rps).toFixed(2) : '-';
    const cpu = ['caller', 'hop', 'end', 'nats'].map((k) => r.cpu_us_per_call[k]?.toString() ?? '-').join('|');
    const machine = r.cpu_us_per_call.machine?.toString() ?? '-';
    return [r.path, `${r.payload_bytes} B`, String(r.concurrency), Math.round(r.rps).toString(), r.p50_ms.toFixed(3), r.p99_ms.toFixed(3), String(r.errors), ratio, cpu, machine];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: readonly string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  process.stdout.write(`${fmt(header)}\n`);
  for (const l of lines) process.stdout.write(`${fmt(l)}\n`);
}

export function printPaced(label: string, p: PacedStats): void {
  process.stdout.write(
    `paced ${label}: ${p.rate_target} req/s target, ${p.rate_achieved.toFixed(0)} achieved, ${p.callers} callers, ${p.sent} calls — ` +
      `p50 ${p.p50_ms.toFixed(3)} ms, p99 ${p.p99_ms.toFixed(3)} ms (from schedule ${p.p99_from_schedule_ms.toFixed(3)} ms), ` +
      `success ${(p.success_rate * 100).toFixed(3)} %${p.errors > 0 ? ` errors ${JSON.stringify(p.error_codes)}` : ''}\n`,
  );
}

export interface BenchSettings {
  readonly windowMs: number;
  readonly warmupMs: number;
  readonly concurrencies: readonly number[];
  readonly payloads: readonly number[];
  readonly paced: { readonly ratePerSec: number; readonly callers: number; readonly durationMs: number; readonly payloadBytes: number };
  readonly stress: { readonly ratePerSec: number; readonly callers: number; readonly durationMs: number; readonly payloadBytes: number };
}

/** The last line: all figures; `summary` holds the ratios the issue asks for. */
export function printJsonLine(input: {
  settings: BenchSettings;
  topology: string;
  rows: readonly BenchRow[];
  paced: { aegis: PacedStats; raw_2hop: PacedStats };
  /** AegisIPC paced at 10,000 req/s (SPEC RT-7 "stress to 10,000 req/s"). */
  stress: PacedStats;
  loadBefore: readonly number[];
  durationS: number;
}): void {
  const rps = (path: BenchPath, payload: number, concurrency: number) =>
    input.rows.find((r) => r.path === path && r.payload_bytes === payload && r.concurrency === concurrency)?.rps ?? 0;
  const ratioAt = (versus: BenchPath, concurrency: number) =>
    Object.fromEntries(input.settings.payloads.map((p) => [String(p), round(rps(versus, p, concurrency) > 0 ? rps('aegis', p, concurrency) / rps(versus, p, concurrency) : 0)]));
  const c64vs2 = ratioAt('raw_2hop', 64);
  const summary = {
    // The lower of the two payload sizes' ratios: the claim must hold for both.
    ratio_rps_vs_raw_2hop_c64: Math.min(...Object.values(c64vs2)),
    ratio_rps_vs_raw_2hop_c64_by_payload: c64vs2,
    ratio_rps_vs_raw_1hop_c64_by_payload: ratioAt('raw_1hop', 64),
    // CPU per call is steadier than req/s on a shared machine: the cost of the middle hop.
    cpu_us_per_call_hop_c64_1kb: {
      raw_2hop: input.rows.find((r) => r.path === 'raw_2hop' && r.payload_bytes === 1024 && r.concurrency === 64)?.cpu_us_per_call.hop,
      aegis: input.rows.find((r) => r.path === 'aegis' && r.payload_bytes === 1024 && r.concurrency === 64)?.cpu_us_per_call.hop,
    },
    // Whole-machine CPU per call (NATS server and kernel included): on a CPU-bound run the
    // throughput ratio is about raw_2hop ÷ aegis of these (ADR 0031 round 6).
    machine_cpu_us_per_call_c64_by_payload: Object.fromEntries(
      input.settings.payloads.map((p) => [
        String(p),
        Object.fromEntries((['raw_2hop', 'aegis'] as const).map((path) => [path, input.rows.find((r) => r.path === path && r.payload_bytes === p && r.concurrency === 64)?.cpu_us_per_call.machine])),
      ]),
    ),
    aegis_rps_c64_by_payload: Object.fromEntries(input.settings.payloads.map((p) => [String(p), round(rps('aegis', p, 64), 0)])),
    paced_p50_ms: round(input.paced.aegis.p50_ms),
    paced_p99_ms: round(input.paced.aegis.p99_ms),
    paced_p99_from_schedule_ms: round(input.paced.aegis.p99_from_schedule_ms),
    paced_success_rate: round(input.paced.aegis.success_rate, 6),
    paced_calls: input.paced.aegis.sent,
    stress_rate_target: input.stress.rate_target,
    stress_rate_achieved: round(input.stress.rate_achieved, 0),
    stress_success_rate: round(input.stress.success_rate, 6),
    stress_p99_ms: round(input.stress.p99_ms),
    errors_total: input.rows.reduce((n, r) => n + r.errors, 0) + input.paced.aegis.errors + input.paced.raw_2hop.errors + input.stress.errors,
  };
  const out = {
    bench: 'routing',
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, loadavg_before: input.loadBefore.map((l) => round(l, 2)), loadavg_after: loadavg().map((l) => round(l, 2)) },
    topology: input.topology,
    settings: input.settings,
    duration_s: round(input.durationS, 1),
    rows: input.rows.map((r) => ({ ...r, rps: round(r.rps, 0), p50_ms: round(r.p50_ms), p99_ms: round(r.p99_ms), max_ms: round(r.max_ms) })),
    paced: input.paced,
    stress: input.stress,
    summary,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
