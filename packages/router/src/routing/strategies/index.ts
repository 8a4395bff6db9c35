/** The built-in strategies by name (`AEGIS_ROUTE_STRATEGY`). */
import { AegisError } from '@aegis-ipc/protocol';
import { random } from './random.js';
import { resourceAffinity } from './resource-affinity.js';
import { roundRobin } from './round-robin.js';
import type { RoutingStrategy } from './strategy.js';

export type { Candidate, RoutingStrategy, SelectionContext, SelectFn } from './strategy.js';
export { roundRobin, random, resourceAffinity };

export const STRATEGIES: Readonly<Record<string, RoutingStrategy>> = Object.freeze({
  round_robin: roundRobin,
  random,
  resource_affinity: resourceAffinity,
});

/** @throws AegisError `CONFIG_INVALID` for an unknown name. */
export function strategyByName(name: string): RoutingStrategy {
  const strategy = STRATEGIES[name];
  if (strategy === undefined) throw new AegisError('CONFIG_INVALID', `unknown routing strategy "${name}"; one of ${Object.keys(STRATEGIES).join(', ')}`);
  return strategy;
}
