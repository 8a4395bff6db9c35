/**
 * Retry with exponential backoff for idempotent requests (REG-4: 3 retries on connection
 * failures). Only the errors the caller's `retryOn` accepts are retried (by default those marked
 * `retryable`); everything else fails at once.
 */
import { toAegisError, type AegisError } from '@aegis-ipc/protocol';

export interface RetryPolicy {
  /** Retries after the first attempt. @default 3 */
  readonly retries?: number;
  /** Delay before the first retry (ms), doubled each time. @default 200 */
  readonly initialDelayMs?: number;
  /** Largest delay between retries (ms). @default 2000 */
  readonly maxDelayMs?: number;
}

export const DEFAULT_RETRY_POLICY: Required<RetryPolicy> = { retries: 3, initialDelayMs: 200, maxDelayMs: 2_000 };

/** The default of {@link withRetry}'s `retryOn`: every error marked `retryable`. */
export const isRetryable = (e: AegisError): boolean => e.retryable;

/**
 * Only a request that never reached a responder (`CONNECTION_FAILED`: no responders, a broken
 * connection). A `TIMEOUT` means something was listening and did not answer in time: sending
 * again would only multiply the wait (REG-4: no reply in time → 504 after the one timeout).
 */
export const isConnectionFailure = (e: AegisError): boolean => e.code === 'CONNECTION_FAILED';

/**
 * Runs `attempt` until it succeeds, an error `retryOn` refuses occurs, or retries run out.
 * @param retryOn which errors are sent again; @default {@link isRetryable}
 */
export async function withRetry<T>(attempt: (n: number) => Promise<T>, policy: RetryPolicy = {}, signal?: AbortSignal, retryOn: (e: AegisError) => boolean = isRetryable): Promise<T> {
  const { retries, initialDelayMs, maxDelayMs } = { ...DEFAULT_RETRY_POLICY, ...policy };
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const e = toAegisError(err);
      if (!retryOn(e) || n >= retries || signal?.aborted) throw e;
      const delay = backoffDelayMs(n, initialDelayMs, maxDelayMs);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * The delay before retry `n` (0 for the first): `initialDelayMs × 2^n`, capped at `maxDelayMs`,
 * then scaled by a random factor in [0.5, 1) — the jitter keeps many clients that failed
 * together from retrying together, the lower half keeps a retry from coming at once.
 */
export function backoffDelayMs(n: number, initialDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  return Math.min(maxDelayMs, initialDelayMs * 2 ** n) * (0.5 + random() / 2);
}
