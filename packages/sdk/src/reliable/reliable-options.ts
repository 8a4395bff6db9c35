/**
 * Options of exactly-once calls (EO-3, EO-5): what the caller waits for, and how the receiving
 * service's durable consumer redelivers. Defaults are defined once here; `resolve…` validates.
 *
 * The redelivery schedule belongs to the *consumer* (one per service, shared by all callers), so
 * the receiver's `ackTimeoutMs`/`maxRetries` set it. A caller's `maxRetries` can only lower the
 * deliveries of its own message (carried in a header); its `ackTimeoutMs` sets how often it
 * re-checks and re-publishes while it waits. See docs/adr/0050-exactly-once-calls.md.
 */
import { AegisError } from '@aegis-ipc/protocol';

/** @default 30 s (EO-3) */
export const DEFAULT_ACK_TIMEOUT_MS = 30_000;
/** @default 3 retries after the first delivery (EO-3) */
export const DEFAULT_MAX_RETRIES = 3;
/** First extra backoff before a retry; doubled per retry. @default 1 s */
export const DEFAULT_BACKOFF_INITIAL_MS = 1_000;
/** Largest extra backoff before a retry. @default 30 s */
export const DEFAULT_BACKOFF_MAX_MS = 30_000;
/** Response cache / dedupe record lifetime (EO-5). @default 1 h */
export const DEFAULT_RESPONSE_TTL_MS = 60 * 60 * 1000;
/** JetStream `Nats-Msg-Id` duplicate window of the request stream. @default 10 min */
export const DEFAULT_DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

/** The redelivery schedule of a consumer. */
export interface RetrySchedule {
  readonly ackTimeoutMs: number;
  readonly maxRetries: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
}

/** Extra delay before retry `retry` (1-based): exponential, capped. */
export function retryDelayMs(schedule: RetrySchedule, retry: number): number {
  if (retry <= 0) return 0;
  return Math.min(schedule.backoffMaxMs, schedule.backoffInitialMs * 2 ** (retry - 1));
}

/**
 * The consumer's `backoff` list: how long delivery n+1 waits for its ack before the broker
 * redelivers — the ack timeout plus the exponential delay of the retry that follows it.
 */
export function ackWaits(schedule: RetrySchedule): number[] {
  return Array.from({ length: schedule.maxRetries + 1 }, (_, i) => schedule.ackTimeoutMs + retryDelayMs(schedule, i + 1));
}

/** Longest time from the first delivery until a message that is never acked is given up. */
export function retryHorizonMs(schedule: RetrySchedule): number {
  return ackWaits(schedule).reduce((a, b) => a + b, 0);
}

/** @throws AegisError `CONFIG_INVALID` */
export function positive(name: string, value: number, integer = false): number {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new AegisError('CONFIG_INVALID', `${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`, { details: { option: name, value } });
  }
  return value;
}

/** @throws AegisError `CONFIG_INVALID` */
export function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new AegisError('CONFIG_INVALID', `${name} must be a non-negative integer, got ${value}`, { details: { option: name, value } });
  }
  return value;
}

/** Resolves a schedule from partial options. @throws AegisError `CONFIG_INVALID` */
export function resolveRetrySchedule(options: Partial<RetrySchedule>): RetrySchedule {
  return Object.freeze({
    ackTimeoutMs: positive('ackTimeoutMs', options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS),
    maxRetries: nonNegativeInteger('maxRetries', options.maxRetries ?? DEFAULT_MAX_RETRIES),
    backoffInitialMs: nonNegativeInteger('backoffInitialMs', options.backoffInitialMs ?? DEFAULT_BACKOFF_INITIAL_MS),
    backoffMaxMs: nonNegativeInteger('backoffMaxMs', options.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS),
  });
}
