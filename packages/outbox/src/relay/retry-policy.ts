/**
 * OB-5 backoff: after a failed publish the row is retried after 1 s, 2 s, then 4 s; the fourth
 * failure marks it FAILED. Pure, so it is unit-tested without I/O.
 */

/** Delays before retry 1, 2, 3 (ms). @default [1000, 2000, 4000] */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 4_000];

/**
 * Delay before the next attempt after `failedAttempts` failures (1-based), or `undefined` when
 * the retries are used up and the row becomes FAILED.
 */
export function nextRetryDelay(failedAttempts: number, delays: readonly number[] = DEFAULT_RETRY_DELAYS_MS): number | undefined {
  return delays[failedAttempts - 1];
}
