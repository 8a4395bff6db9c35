/**
 * Paced (open-loop) load: `callers` callers together send `ratePerSec` calls per second on a
 * fixed schedule, whatever the answers do — SPEC RT-7's "1,000 req/s with 100 concurrent
 * callers". Each caller owns one slot every `callers / ratePerSec` seconds, offset so the
 * callers interleave evenly.
 *
 * Latency is measured from the actual send (service time). Because a slow answer delays that
 * caller's next send, the result also reports the p99 measured from the *scheduled* time
 * (includes queueing; guards against coordinated omission) and how many sends were late.
 */
import { LatencyRecorder, errorLabel, nowMs, percentile } from './latency-stats.js';
import type { BenchCall } from './closed-loop.js';

export interface PacedOptions {
  readonly ratePerSec: number;
  readonly callers: number;
  readonly durationMs: number;
}

export interface PacedStats {
  readonly rate_target: number;
  readonly rate_achieved: number;
  readonly callers: number;
  readonly sent: number;
  readonly ok: number;
  readonly errors: number;
  /** ok / sent, 0…1. */
  readonly success_rate: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
  /** p99 from the scheduled send time (≥ p99_ms; the gap is timer jitter plus queueing). */
  readonly p99_from_schedule_ms: number;
  /** Sends that left more than 1 ms after their slot. */
  readonly late_sends: number;
  readonly error_codes: Readonly<Record<string, number>>;
}

export async function runPaced(call: BenchCall, options: PacedOptions): Promise<PacedStats> {
  const recorder = new LatencyRecorder();
  const fromSchedule: number[] = [];
  const intervalMs = (options.callers * 1000) / options.ratePerSec;
  const slotsPerCaller = Math.floor(options.durationMs / intervalMs);
  const start = nowMs() + 50;
  let seq = 0;
  let late = 0;
  const caller = async (index: number) => {
    const offset = (index * intervalMs) / options.callers;
    for (let k = 0; k < slotsPerCaller; k++) {
      const due = start + offset + k * intervalMs;
      const wait = due - nowMs();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const sent = nowMs();
      if (sent - due > 1) late++;
      try {
        await call(seq++);
        const done = nowMs();
        recorder.ok(done - sent);
        fromSchedule.push(done - due);
      } catch (err) {
        recorder.error(errorLabel(err));
      }
    }
  };
  await Promise.all(Array.from({ length: options.callers }, (_, i) => caller(i)));
  const elapsed = nowMs() - start;
  const stats = recorder.summarize(elapsed);
  const sent = stats.ok + stats.errors;
  return {
    rate_target: options.ratePerSec,
    rate_achieved: (sent * 1000) / elapsed,
    callers: options.callers,
    sent,
    ok: stats.ok,
    errors: stats.errors,
    success_rate: sent > 0 ? stats.ok / sent : 0,
    p50_ms: stats.p50_ms,
    p99_ms: stats.p99_ms,
    max_ms: stats.max_ms,
    p99_from_schedule_ms: percentile(Float64Array.from(fromSchedule).sort(), 0.99),
    late_sends: late,
    error_codes: stats.error_codes,
  };
}
