/**
 * When a routed call goes to another instance, and how long each attempt may take (RT-4), as
 * pure functions: only a timeout or a transport failure (no responder) fails over — an answer,
 * even an error answer, is final, because another instance would answer the same.
 */

import type { AttemptFailure } from '@aegis-ipc/sdk';

export type { AttemptFailure };

export interface FailoverLimits {
  /** Most attempts (different instances) per call. */
  readonly maxAttempts: number;
  /** Longest single attempt (ms). */
  readonly attemptTimeoutMs: number;
}

/** Smallest attempt worth sending: below this the call is as good as out of time. */
export const MIN_ATTEMPT_MS = 5;

/** Time the next attempt gets: the per-attempt timeout, cut to what is left of the budget. */
export function attemptBudget(limits: FailoverLimits, remainingMs: number): number {
  return Math.min(limits.attemptTimeoutMs, Math.max(0, Math.floor(remainingMs)));
}

/**
 * Whether to try another instance after `attemptsMade` attempts failed.
 * @param hasCandidate whether an instance not tried yet is available.
 */
export function shouldFailOver(limits: FailoverLimits, attemptsMade: number, remainingMs: number, hasCandidate: boolean): boolean {
  return attemptsMade < limits.maxAttempts && remainingMs >= MIN_ATTEMPT_MS && hasCandidate;
}

/** The wire error type recorded for a failed attempt. */
export function attemptErrorType(failure: AttemptFailure): 'ROUTE_INSTANCE_TIMEOUT' | 'CONNECTION_FAILED' {
  return failure === 'timeout' ? 'ROUTE_INSTANCE_TIMEOUT' : 'CONNECTION_FAILED';
}
