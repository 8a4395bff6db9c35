/**
 * CPU time of processes, to report CPU microseconds per call next to req/s. On a shared machine
 * throughput moves with everyone else's load; the CPU a path spends per call barely does, so it
 * is the steadier figure for "how much heavier is the routed path". Linux `/proc` for children
 * (clock ticks, 10 ms resolution — fine over windows of thousands of calls); `process.cpuUsage()`
 * for this process. Elsewhere it returns undefined and the figures are omitted.
 */
import { readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_S = 100;

/** User + system CPU time of `pid` in microseconds, or undefined when it cannot be read. */
export function cpuMicros(pid: number | 'self'): number | undefined {
  if (pid === 'self') {
    const u = process.cpuUsage();
    return u.user + u.system;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? ((utime + stime) * 1e6) / CLOCK_TICKS_PER_S : undefined;
  } catch {
    return undefined;
  }
}

/** Snapshot of several processes' CPU; `perCall()` turns two snapshots into µs per call. */
export class CpuMeter<K extends string> {
  readonly #pids: Readonly<Record<K, number | 'self'>>;

  constructor(pids: Readonly<Record<K, number | 'self'>>) {
    this.#pids = pids;
  }

  snapshot(): Record<K, number | undefined> {
    const out = {} as Record<K, number | undefined>;
    for (const key of Object.keys(this.#pids) as K[]) out[key] = cpuMicros(this.#pids[key]);
    return out;
  }

  static perCall<K extends string>(before: Record<K, number | undefined>, after: Record<K, number | undefined>, calls: number): Partial<Record<K, number>> {
    const out: Partial<Record<K, number>> = {};
    if (calls <= 0) return out;
    for (const key of Object.keys(before) as K[]) {
      const b = before[key];
      const a = after[key];
      if (a !== undefined && b !== undefined) out[key] = Math.round((a - b) / calls);
    }
    return out;
  }
}
