/** Options of one `client.call()`: all optional, defaults defined once. */
import { AegisError } from '@aegis-ipc/protocol';
import type { CallContext } from '../instance/call-context.js';

export interface CallOptions {
  /**
   * How long to wait for the answer (ms). Also sent to the router, which keeps its whole
   * failover budget within it.
   * @default 16000 (longer than the router's 15 s total budget, so its typed error arrives first)
   */
  readonly timeoutMs?: number;
  /** Trace id of the call (W3C: 32 lowercase hex). @default the enclosing call's, else a new one */
  readonly traceId?: string;
  /** Resource the call is about; affinity strategies route by it. */
  readonly resourceId?: string;
  /** Message id, carried to the handler as `ctx.messageId`. */
  readonly messageId?: string;
  /** Aborts waiting for the answer (`CANCELLED`); the call may still run on the instance. */
  readonly signal?: AbortSignal;
  /**
   * The call being served when this one is made from inside a handler: the new call continues
   * its trace id and hop count, so the router's loop detection sees call chains.
   * @example instance.handle('checkout', (params, ctx) => client.call('billing', 'charge', params, { parent: ctx }))
   */
  readonly parent?: CallContext;
}

/** @default 16 s: above the router's 15 s total budget. */
export const DEFAULT_CALL_TIMEOUT_MS = 16_000;

/**
 * Extra wait beyond `timeoutMs` before the caller gives up by itself: the router answers at
 * `timeoutMs` at the latest, and its answer (504 with the attempts) says more than a bare timeout.
 */
export const CALL_REPLY_GRACE_MS = 250;

/** @throws AegisError `CONFIG_INVALID` for a non-positive timeout. */
export function resolveCallTimeout(options: CallOptions): number {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new AegisError('CONFIG_INVALID', `timeoutMs must be a positive number, got ${timeoutMs}`);
  return timeoutMs;
}
