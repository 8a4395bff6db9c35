/** Uniform random choice: no shared cursor, useful when many router replicas serve few callers. */
import type { Candidate, RoutingStrategy, SelectionContext } from './strategy.js';

export const random: RoutingStrategy = {
  name: 'random',
  select<I extends Candidate>(instances: readonly I[], ctx: SelectionContext): I | undefined {
    const exclude = ctx.exclude;
    const pool = exclude === undefined || exclude.size === 0 ? instances : instances.filter((i) => !exclude.has(i.instance_id));
    if (pool.length === 0) return undefined;
    return pool[Math.floor(Math.random() * pool.length)];
  },
};
