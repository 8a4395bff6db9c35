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
  /**
   * Send the call again when it failed in a way another try may fix (ADR 0032): always when no
   * handler can have run (no router listening, `ROUTE_NO_INSTANCE`, `ROUTE_CIRCUIT_OPEN`), and
   * also after a timeout (`TIMEOUT`, `ROUTE_INSTANCE_TIMEOUT`, `ROUTE_ALL_FAILED`) when
   * `idempotent` is true — each attempt then gets a share of the budget (`attemptTimeoutMs`).
   * `timeoutMs` stays the budget of the whole call, retries included.
   * @default undefined — no retry: one attempt, exactly as without this option
   * @example client.call('inventory', 'reserve', params, { timeoutMs: 5_000, retry: { idempotent: true } })
   */
  readonly retry?: CallRetryOptions;
}

/** How `client.call()` retries (see {@link CallOptions.retry}); all optional. */
export interface CallRetryOptions {
  /** Attempts after the first. @default 2 */
  readonly retries?: number;
  /** Delay before the first retry (ms); doubled for each further retry, with jitter. @default 100 */
  readonly initialDelayMs?: number;
  /**
   * Longest delay between two attempts (ms), unless a circuit breaker asks for longer.
   * @default 1000, or `initialDelayMs` when that is larger
   */
  readonly maxDelayMs?: number;
  /**
   * Running the handler twice is harmless: also retry failures after which it may have run
   * (`TIMEOUT`, `ROUTE_INSTANCE_TIMEOUT`, `ROUTE_ALL_FAILED`).
   * @default false
   */
  readonly idempotent?: boolean;
  /**
   * Most one attempt may take (ms), so an attempt that timed out leaves budget for the next: a
   * timeout is only worth retrying if it did not spend the whole `timeoutMs`.
   * @default with `idempotent`, `timeoutMs ÷ (retries + 1)`; otherwise the whole budget left (the
   * failures retried then are answered at once, and one attempt keeps the router's full failover)
   */
  readonly attemptTimeoutMs?: number;
}

/** The retry of one call with every default applied (`attemptTimeoutMs` undefined: the budget left). */
export type ResolvedCallRetry = Readonly<Required<Omit<CallRetryOptions, 'attemptTimeoutMs'>>> & { readonly attemptTimeoutMs: number | undefined };

/** Defaults of {@link CallRetryOptions}: a short ride over a router restart or a rolling deploy. */
export const DEFAULT_CALL_RETRY: ResolvedCallRetry = { retries: 2, initialDelayMs: 100, maxDelayMs: 1_000, idempotent: false, attemptTimeoutMs: undefined };

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

/**
 * The retry of one call with its defaults.
 * @throws AegisError `CONFIG_INVALID` for a negative or fractional `retries`, a non-positive or
 * infinite delay, a `maxDelayMs` below `initialDelayMs`.
 */
export function resolveCallRetry(retry: CallRetryOptions, budgetMs: number): ResolvedCallRetry {
  const initialDelayMs = retry.initialDelayMs ?? DEFAULT_CALL_RETRY.initialDelayMs;
  const retries = retry.retries ?? DEFAULT_CALL_RETRY.retries;
  const idempotent = retry.idempotent ?? DEFAULT_CALL_RETRY.idempotent;
  const resolved: ResolvedCallRetry = {
    retries,
    initialDelayMs,
    // Only a maxDelayMs that was given can contradict initialDelayMs.
    maxDelayMs: retry.maxDelayMs ?? Math.max(DEFAULT_CALL_RETRY.maxDelayMs, initialDelayMs),
    idempotent,
    // An idempotent call retries timeouts, so each attempt gets a share of the budget: one that
    // timed out after the whole budget could never be followed by another.
    attemptTimeoutMs: retry.attemptTimeoutMs ?? (idempotent === true && Number.isSafeInteger(retries) && retries >= 0 ? Math.max(1, Math.floor(budgetMs / (retries + 1))) : undefined),
  };
  if (!Number.isSafeInteger(resolved.retries) || resolved.retries < 0) throw new AegisError('CONFIG_INVALID', `retry.retries must be a non-negative integer, got ${resolved.retries}`);
  if (!Number.isFinite(resolved.initialDelayMs) || resolved.initialDelayMs <= 0) throw new AegisError('CONFIG_INVALID', `retry.initialDelayMs must be a positive number, got ${resolved.initialDelayMs}`);
  if (!Number.isFinite(resolved.maxDelayMs) || resolved.maxDelayMs <= 0) throw new AegisError('CONFIG_INVALID', `retry.maxDelayMs must be a positive number, got ${resolved.maxDelayMs}`);
  if (resolved.maxDelayMs < resolved.initialDelayMs) throw new AegisError('CONFIG_INVALID', `retry.maxDelayMs (${resolved.maxDelayMs}) must not be below retry.initialDelayMs (${resolved.initialDelayMs})`);
  if (typeof resolved.idempotent !== 'boolean') throw new AegisError('CONFIG_INVALID', `retry.idempotent must be a boolean, got ${String(resolved.idempotent)}`);
  if (resolved.attemptTimeoutMs !== undefined && (!Number.isFinite(resolved.attemptTimeoutMs) || resolved.attemptTimeoutMs <= 0)) {
    throw new AegisError('CONFIG_INVALID', `retry.attemptTimeoutMs must be a positive number, got ${resolved.attemptTimeoutMs}`);
  }
  return resolved;
}
