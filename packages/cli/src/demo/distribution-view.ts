/**
 * Renders the demo's live view: one line per second with the calls each instance answered as a
 * bar, its registry status when it is not ONLINE, and the errors of that second.
 */
import type { CallCounts } from './caller-loop.js';

const BAR_WIDTH = 20;

export interface InstanceState {
  readonly instanceId: string;
  /** Registry status as the router sees it (ONLINE, UNHEALTHY, OFFLINE, or '-' when unknown). */
  readonly status: string;
}

/** One line: `  12.0s  ok  98  err 0  │ echo-1 ███████ 33 │ echo-2 ✗ UNHEALTHY │ …`. */
export function renderTick(elapsedS: number, counts: CallCounts, instances: readonly InstanceState[]): string {
  const max = Math.max(1, ...counts.byInstance.values());
  const cells = instances.map(({ instanceId, status }) => {
    const n = counts.byInstance.get(instanceId) ?? 0;
    const bar = '█'.repeat(Math.round((n / max) * BAR_WIDTH)).padEnd(BAR_WIDTH);
    const mark = status === 'ONLINE' ? '' : ` ✗ ${status}`;
    return `${instanceId} ${bar} ${String(n).padStart(3)}${mark}`;
  });
  const errors = counts.errors > 0 ? ` (${[...counts.byError].map(([code, n]) => `${code}×${n}`).join(', ')})` : '';
  return `${elapsedS.toFixed(1).padStart(6)}s  ok ${String(counts.ok).padStart(4)}  err ${counts.errors}${errors}  │ ${cells.join(' │ ')}`;
}

/** Max/min ratio of the per-instance counts among `instanceIds` (1 = perfectly even). */
export function spread(counts: CallCounts, instanceIds: readonly string[]): number {
  const values = instanceIds.map((id) => counts.byInstance.get(id) ?? 0);
  const min = Math.min(...values);
  return min === 0 ? Number.POSITIVE_INFINITY : Math.max(...values) / min;
}
