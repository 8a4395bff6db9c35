/**
 * Loop detection by hop count (RT-4): every routed hop increments `Ipc-Hops` and appends to
 * `Ipc-Path`; a call chain A → B → A → … is refused with 508 once it has taken `maxHops` hops,
 * with the path it took, instead of circling until every timeout fires.
 */
import { AegisError } from '@aegis-ipc/protocol';

/** Longest `Ipc-Path` kept (characters): bounded so a hostile header cannot grow it. */
export const MAX_PATH_LENGTH = 1_024;

/** Splits an `Ipc-Path` header into its entries. */
export function parsePath(path: string): string[] {
  return path === '' ? [] : path.split(',');
}

/** The path after one more hop to `entry`, bounded in length (oldest entries dropped). */
export function extendPath(path: string, entry: string): string {
  const next = path === '' ? entry : `${path},${entry}`;
  if (next.length <= MAX_PATH_LENGTH) return next;
  const cut = next.indexOf(',', next.length - MAX_PATH_LENGTH);
  return cut === -1 ? entry : next.slice(cut + 1);
}

/**
 * @throws AegisError `ROUTE_LOOP_DETECTED` (508) when a call that already took `hops` hops may
 * not take another.
 */
export function assertHopAllowed(hops: number, path: string, maxHops: number, target: string, traceId: string): void {
  if (hops < maxHops) return;
  const taken = [...parsePath(path), target];
  throw new AegisError('ROUTE_LOOP_DETECTED', `routing loop: ${hops} hops taken (max ${maxHops}) via ${taken.join(' → ')}`, {
    details: { hops, path: taken, trace_id: traceId },
  });
}
