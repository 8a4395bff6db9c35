/**
 * Resource affinity by rendezvous (highest-random-weight) hashing: calls with the same
 * `resource_id` go to the same instance while it is healthy, and when an instance leaves only
 * its own resources move. Calls without a resource id fall back to round robin.
 */
import { roundRobin } from './round-robin.js';
import type { Candidate, RoutingStrategy, SelectionContext } from './strategy.js';

/** FNV-1a 32-bit over `a`, a separator and `b`. */
function score(a: string, b: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0x1f, 0x01000193);
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b.charCodeAt(i), 0x01000193);
  // Final avalanche so ids that differ in one character do not get neighbouring scores.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

export const resourceAffinity: RoutingStrategy = {
  name: 'resource_affinity',
  select<I extends Candidate>(instances: readonly I[], ctx: SelectionContext): I | undefined {
    const resource = ctx.resourceId;
    if (resource === undefined || resource === '') return roundRobin.select(instances, ctx);
    let best: I | undefined;
    let bestScore = -1;
    for (const candidate of instances) {
      if (ctx.exclude?.has(candidate.instance_id)) continue;
      const s = score(resource, candidate.instance_id);
      if (s > bestScore) {
        best = candidate;
        bestScore = s;
      }
    }
    return best;
  },
};
