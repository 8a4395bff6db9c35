/**
 * Closed-loop load: `concurrency` workers each send a call, wait for its answer, and send the
 * next — the classic way to find the throughput a path sustains at a given number of requests
 * in flight. Calls during the warm-up are sent but not recorded (JIT, connection buffers, the
 * router's first-call paths).
 */
import { LatencyRecorder, errorLabel, nowMs, type LoadStats } from './latency-stats.js';

/** One call; resolves when the answer arrived and was checked, rejects otherwise. */
export type BenchCall = (seq: number) => Promise<void>;

export interface ClosedLoopOptions {
  readonly concurrency: number;
  readonly durationMs: number;
  readonly warmupMs: number;
}

export async function runClosedLoop(call: BenchCall, options: ClosedLoopOptions): Promise<LoadStats> {
  const recorder = new LatencyRecorder();
  const measureFrom = nowMs() + options.warmupMs;
  const measureUntil = measureFrom + options.durationMs;
  let seq = 0;
  let completed = 0;
  const worker = async () => {
    // Bounded: stops at measureUntil whatever happens.
    while (nowMs() < measureUntil) {
      const started = nowMs();
      try {
        await call(seq++);
        completed++;
        if (started >= measureFrom) recorder.ok(nowMs() - started);
      } catch (err) {
        completed++;
        if (started >= measureFrom) recorder.error(errorLabel(err));
        // A call that fails at once must not turn the loop into a microtask spin that starves I/O.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  // Calls started before the deadline may finish after it; they count, and so does their time.
  return { ...recorder.summarize(Math.max(nowMs() - measureFrom, 1)), calls_total: completed };
}
