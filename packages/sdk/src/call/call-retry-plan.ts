/**
 * When `client.call()` sends a failed call again, and after how long (ADR 0032), as pure
 * functions — the caller's counterpart of the router's failover plan. The rule is about the
 * handler, not the error's `retryable` flag (which says whether the same request may succeed,
 * not whether it ran): a call is sent again when no handler can have run, and after a timeout
 * only when the caller said running it twice is harmless (`idempotent`). Everything else is the
 * call's answer.
 */
import type { AegisError } from '@aegis-ipc/protocol';
import { backoffDelayMs } from '../retry/retry-policy.js';
import { AttemptFailed } from '../transport/reply-mux.js';
import type { ResolvedCallRetry } from './call-options.js';

/** What a failed attempt allows: send again, send again only if idempotent, or stop. */
export type RetryVerdict = 'retry' | 'retry_if_idempotent' | 'final';

/** The call an attempt belonged to: a router's refusal names both. */
export interface RetriedCall {
  readonly serviceName: string;
  readonly traceId: string;
}

/**
 * Shortest attempt worth sending (ms). The router keeps within the time it is sent and wants at
 * least 5 ms for an instance attempt (its MIN_ATTEMPT_MS); the two hops to reach it and back take
 * a few more. With less left than this the last error is the better answer.
 */
export const MIN_RETRY_ATTEMPT_MS = 10;

/**
 * Whether the failure of one attempt of `call` may be retried.
 *
 * - `retry` — no handler ran: the caller's request found no responder (no router listening), or
 *   the router refused this very call (`ROUTE_NO_INSTANCE`, `ROUTE_CIRCUIT_OPEN`, or
 *   `ROUTE_ALL_FAILED` whose every attempt found no responder on the instance's inbox).
 * - `retry_if_idempotent` — a handler may have run: `TIMEOUT`, `ROUTE_INSTANCE_TIMEOUT`,
 *   `ROUTE_ALL_FAILED`; and a refusal or connection failure that was not this call's own but
 *   relayed by a handler from a call it made (its details name another service or trace).
 * - `final` — everything else: the handler's answer, a bad request, `CANCELLED`, `CLOSED`…
 */
export function retryVerdict(error: AegisError, call: RetriedCall): RetryVerdict {
  switch (error.code) {
    case 'CONNECTION_FAILED':
      // Made by this caller when its own request found no responder; the same code in a reply
      // was relayed by a handler (the router never answers it).
      return error.cause instanceof AttemptFailed && error.cause.failure === 'no_responders' ? 'retry' : 'retry_if_idempotent';
    case 'ROUTE_NO_INSTANCE':
    case 'ROUTE_CIRCUIT_OPEN':
      return refusedThisCall(error, call) ? 'retry' : 'retry_if_idempotent';
    case 'ROUTE_ALL_FAILED': {
      const attempts = (error as AegisError<'ROUTE_ALL_FAILED'>).details?.attempts;
      const noneDelivered = attempts !== undefined && attempts.length > 0 && attempts.every((a) => a.error_type === 'CONNECTION_FAILED');
      return noneDelivered && refusedThisCall(error, call) ? 'retry' : 'retry_if_idempotent';
    }
    case 'TIMEOUT':
    case 'ROUTE_INSTANCE_TIMEOUT':
      return 'retry_if_idempotent';
    default:
      return 'final';
  }
}

/** The router's error about `call` itself, not one a handler relayed from a call of its own. */
function refusedThisCall(error: AegisError, call: RetriedCall): boolean {
  const details = error.details as { readonly service_name?: unknown; readonly trace_id?: unknown } | undefined;
  return details?.service_name === call.serviceName && (details.trace_id === undefined || details.trace_id === call.traceId);
}

/** Where a call stands after a failed attempt. */
export interface RetryState extends RetriedCall {
  /** Attempts sent so far, the failed one included. */
  readonly attemptsMade: number;
  /** Time left of the call's budget (ms). */
  readonly remainingMs: number;
}

/**
 * How long to wait before sending the call again after `error`, or `undefined` to fail with
 * `error`: not retryable (see {@link retryVerdict}), retries used up, or too little time left.
 * The wait is the jittered backoff, at least a breaker's `retry_after_ms` (a breaker that opens
 * later than the budget ends the call at once: waiting could not help), and never so long that
 * less than {@link MIN_RETRY_ATTEMPT_MS} is left for the next attempt.
 */
export function retryDelayMs(error: AegisError, state: RetryState, policy: ResolvedCallRetry, random: () => number = Math.random): number | undefined {
  const verdict = retryVerdict(error, state);
  if (verdict === 'final' || (verdict === 'retry_if_idempotent' && !policy.idempotent)) return undefined;
  if (state.attemptsMade > policy.retries) return undefined;
  const room = state.remainingMs - MIN_RETRY_ATTEMPT_MS;
  if (room < 0) return undefined;
  const delay = backoffDelayMs(state.attemptsMade - 1, policy.initialDelayMs, policy.maxDelayMs, random);
  const retryAfter = error.is('ROUTE_CIRCUIT_OPEN') ? breakerWaitMs(error) : 0;
  if (retryAfter > room) return undefined;
  return Math.min(Math.max(delay, retryAfter), room);
}

/** The breaker's `retry_after_ms`, 0 when the details do not carry a usable one. */
function breakerWaitMs(error: AegisError<'ROUTE_CIRCUIT_OPEN'>): number {
  const ms = error.details?.retry_after_ms;
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : 0;
}
