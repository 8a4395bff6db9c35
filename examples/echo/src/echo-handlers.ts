/**
 * The echo example's methods, kept apart from the process entry so the benchmark can serve them
 * in-process and the demo, fault tests and bench serve exactly the same code out of process.
 *
 * - `echo`: returns the params plus the answering `instance_id` — callers put a request id in
 *   the params, so a wrong or late answer is visible (fault tests check every reply).
 * - `slow`: waits `params.ms` (bounded) before answering like `echo`; aborts with the call.
 * - `fail`: always throws, so callers see an `APPLICATION_ERROR` that is not retried elsewhere.
 * - `mirror`: returns the params unchanged — the routed counterpart of the routing benchmark's raw
 *   responder, which sends the request's bytes back, so the bench compares like with like (no
 *   `instance_id` to add, no copy of the params; ADR 0040).
 *
 * @example
 * const instance = await client.register('echo', 'echo-1');
 * serveEcho(instance);
 */
import type { ServiceInstance } from '@aegis-ipc/sdk';

/** Longest sleep `slow` accepts, so a typo in a demo cannot park a handler for hours. */
export const MAX_SLOW_MS = 60_000;

/** What `echo` and `slow` return: the caller's params plus who answered. */
export type EchoReply = Record<string, unknown> & { readonly instance_id: string };

/** Serves `echo`, `slow`, `fail` and `mirror` on `instance`; returns it for chaining. */
export function serveEcho(instance: ServiceInstance): ServiceInstance {
  const instanceId = instance.instanceId;
  return instance
    .handle('echo', async (params: Record<string, unknown>): Promise<EchoReply> => ({ ...params, instance_id: instanceId }))
    .handle('slow', async (params: Record<string, unknown>, ctx): Promise<EchoReply> => {
      await sleep(slowMs(params.ms), ctx.signal);
      return { ...params, instance_id: instanceId };
    })
    .handle('fail', async (params: Record<string, unknown>): Promise<never> => {
      const reason = typeof params.reason === 'string' ? params.reason : 'fail was called';
      throw new Error(`${instanceId}: ${reason}`);
    })
    .handle('mirror', async (params: Record<string, unknown>) => params);
}

function slowMs(value: unknown): number {
  const ms = typeof value === 'number' && Number.isFinite(value) ? value : 1_000;
  return Math.min(Math.max(ms, 0), MAX_SLOW_MS);
}

/** Resolves after `ms`, or rejects when the call is cancelled (the router gave up on it). */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
