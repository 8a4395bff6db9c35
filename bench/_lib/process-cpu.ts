/**
 * CPU time of processes, to report CPU microseconds per call next to req/s. On a shared machine
 * throughput moves with everyone else's load; the CPU a path spends per call barely does, so it
 * is the steadier figure for "how much heavier is the routed path". Linux `/proc` for children
 * (clock ticks, 10 ms resolution — fine over windows of thousands of calls); `process.cpuUsage()`
 * for this process. Elsewhere it returns undefined and the figures are omitted.
 *
 * Two more sources make the per-call budget complete (ADR 0031 round 6): the NATS server's process
 * (it runs on this machine for the benches) and the whole machine's busy time (`/proc/stat`), which
 * also holds the kernel's loopback work charged to no process. On two cores the throughput ratio
 * of two paths follows their machine CPU per call, NATS included, not only the Node processes'.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_S = 100;

/** Whose CPU to read: a pid, this process, or every CPU of the machine (busy = not idle or iowait). */
export type CpuSource = number | 'self' | 'machine';

/**
 * User + system CPU time of `source` in microseconds, or undefined when it cannot be read.
 * `'machine'` sums all cores: with two cores, one second of wall time holds 2 s of it.
 */
export function cpuMicros(source: CpuSource): number | undefined {
  if (source === 'self') {
    const u = process.cpuUsage();
    return u.user + u.system;
  }
  if (source === 'machine') return machineBusyMicros();
  const pid = source;
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

function machineBusyMicros(): number | undefined {
  try {
    // First line: `cpu  user nice system idle iowait irq softirq steal guest guest_nice` in ticks.
    const ticks = (readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '').trim().split(/\s+/).slice(1, 8).map(Number);
    if (ticks.length < 7 || ticks.some((t) => !Number.isFinite(t))) return undefined;
    // Steal is time the hypervisor gave to other guests: not work of this machine's processes.
    const [user, nice, system, , , irq, softirq] = ticks as [number, number, number, number, number, number, number];
    return ((user + nice + system + irq + softirq) * 1e6) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}

/** The pid of the local `nats-server`, when exactly one runs on this machine; else undefined. */
function localNatsServerPid(): number | undefined {
  try {
    const pids = execFileSync('pidof', ['nats-server'], { encoding: 'utf8' }).trim().split(/\s+/);
    const pid = Number(pids[0]);
    return pids.length === 1 && Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The sources every path shares: the whole machine, and the local NATS server when it can be
 * found. Spread into a {@link CpuMeter}'s sources next to the path's own processes.
 */
export function sharedCpuSources(): Record<string, CpuSource> {
  const nats = localNatsServerPid();
  return nats === undefined ? { machine: 'machine' } : { nats, machine: 'machine' };
}

/** Snapshot of several processes' CPU; `perCall()` turns two snapshots into µs per call. */
export class CpuMeter<K extends string> {
  readonly #pids: Readonly<Record<K, CpuSource>>;

  constructor(pids: Readonly<Record<K, CpuSource>>) {
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
