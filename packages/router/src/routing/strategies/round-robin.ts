/**
 * Round robin that stays fair when instances join, leave or turn unhealthy (RT-2).
 *
 * Instead of an index into the instance list (which skews when the list changes: an index past
 * the end resets to 0, and a removal shifts every later instance by one), it continues with the
 * first instance whose id sorts *after* the last one chosen. The registry keeps instances sorted
 * by id, so every instance gets exactly one turn per cycle whatever changed since the last call.
 */
import type { Candidate, RoutingStrategy, SelectionContext } from './strategy.js';

/** Index of the first instance whose id sorts after `id` (binary search; list sorted by id). */
function firstAfter(instances: readonly Candidate[], id: string): number {
  let lo = 0;
  let hi = instances.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((instances[mid] as Candidate).instance_id <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const roundRobin: RoutingStrategy = {
  name: 'round_robin',
  select<I extends Candidate>(instances: readonly I[], ctx: SelectionContext): I | undefined {
    const n = instances.length;
    if (n === 0) return undefined;
    const start = ctx.previous === undefined ? 0 : firstAfter(instances, ctx.previous) % n;
    const exclude = ctx.exclude;
    for (let k = 0; k < n; k++) {
      const candidate = instances[(start + k) % n] as I;
      if (exclude === undefined || !exclude.has(candidate.instance_id)) return candidate;
    }
    return undefined;
  },
};
