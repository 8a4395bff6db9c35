/** Options of a {@link ReliableReceiver}: all optional but the idempotency store. */
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { IdempotencyGuard } from './idempotency-guard.js';
import type { Registry } from 'prom-client';
import { AegisError } from '@aegis-ipc/protocol';
import type { DedupeStore } from '../dedupe/dedupe-store.js';
import {
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_RESPONSE_TTL_MS,
  positive,
  resolveRetrySchedule,
  retryHorizonMs,
  type RetrySchedule,
} from './reliable-options.js';

/**
 * What makes the receiver idempotent: the message's status record in JetStream KV (one record
 * per id: claim, state and response — the cheapest), a separate shared dedupe store (KV or
 * Redis), or a PostgreSQL inbox. See docs/guarantees.md and ADR 0053.
 */
export type Idempotency = { readonly statusRecord: true } | { readonly store: DedupeStore } | { readonly pool: Pool };

export interface ReliableReceiverOptions {
  /**
   * Required: `{ statusRecord: true }` (the status record in KV is the dedupe entry and response
   * cache, kept `statusTtlMs`), `{ store }` (separate KV/Redis dedupe + response cache) or
   * `{ pool }` (transactional inbox).
   */
  readonly idempotency: Idempotency;
  /** How long one delivery may go unacknowledged before the broker redelivers it. @default 30000 */
  readonly ackTimeoutMs?: number;
  /** Redeliveries after the first delivery; then the message is FAILED. @default 3 */
  readonly maxRetries?: number;
  /** Extra delay before the first retry, doubled per retry. @default 1000 */
  readonly backoffInitialMs?: number;
  /** Cap of that delay. @default 30000 */
  readonly backoffMaxMs?: number;
  /** How long the stored response answers duplicates; must match the store's TTL. @default 3600000 */
  readonly responseTtlMs?: number;
  /** How long message states are kept (status bucket max_age, set by its creator). @default 86400000 */
  readonly statusTtlMs?: number;
  /** `Nats-Msg-Id` duplicate window of the request stream. @default 600000 */
  readonly duplicateWindowMs?: number;
  /** Handlers running at once on this instance. @default 16 */
  readonly concurrency?: number;
  /** Prometheus registry. @default prom-client's global registry */
  readonly registry?: Registry;
  /** @default the client's logger */
  readonly logger?: Logger;
  /**
   * Test seam: return `'drop'` to neither ack to the broker nor publish the ACK (an ACK lost on
   * the way). Never set in production.
   */
  readonly beforeAck?: (messageId: string, deliveryCount: number) => 'drop' | undefined;
}

export interface ResolvedReceiverOptions {
  readonly idempotency: Idempotency;
  readonly schedule: RetrySchedule;
  readonly responseTtlMs: number;
  readonly statusTtlMs: number;
  readonly duplicateWindowMs: number;
  readonly concurrency: number;
  readonly registry: Registry | undefined;
  readonly logger: Logger | undefined;
  readonly beforeAck: ReliableReceiverOptions['beforeAck'];
}

/** @default 24 h */
export const DEFAULT_STATUS_TTL_MS = 24 * 60 * 60 * 1000;
/** @default 16 */
export const DEFAULT_RECEIVER_CONCURRENCY = 16;

/** @throws AegisError `CONFIG_INVALID` */
export function resolveReceiverOptions(options: ReliableReceiverOptions): ResolvedReceiverOptions {
  const idem = options.idempotency as Partial<{ statusRecord: unknown; store: unknown; pool: unknown }> | undefined;
  const chosen = idem === undefined ? 0 : [idem.statusRecord === true, idem.store !== undefined, idem.pool !== undefined].filter(Boolean).length;
  if (chosen !== 1) {
    throw new AegisError('CONFIG_INVALID', 'idempotency must be { statusRecord: true }, { store: DedupeStore } or { pool: pg.Pool }', { details: { option: 'idempotency' } });
  }
  return Object.freeze({
    idempotency: options.idempotency,
    schedule: resolveRetrySchedule(options),
    responseTtlMs: positive('responseTtlMs', options.responseTtlMs ?? DEFAULT_RESPONSE_TTL_MS),
    statusTtlMs: positive('statusTtlMs', options.statusTtlMs ?? DEFAULT_STATUS_TTL_MS),
    duplicateWindowMs: positive('duplicateWindowMs', options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
    concurrency: positive('concurrency', options.concurrency ?? DEFAULT_RECEIVER_CONCURRENCY, true),
    registry: options.registry,
    logger: options.logger,
    beforeAck: options.beforeAck,
  });
}

/** EO-5 start-up check: a dedupe record that expires before the last retry cannot dedupe it. */
export function warnOnShortTtl(options: ResolvedReceiverOptions, guard: IdempotencyGuard, log: Logger): void {
  if (guard.kind === 'inbox') return;
  const horizon = retryHorizonMs(options.schedule);
  if (guard.responseTtlMs < horizon || guard.responseTtlMs < options.duplicateWindowMs) {
    log.warn(
      { event: 'dedupe_ttl_too_short', response_ttl_ms: guard.responseTtlMs, retry_horizon_ms: horizon, duplicate_window_ms: options.duplicateWindowMs },
      'dedupe TTL is shorter than the retry horizon or the duplicate window: a late retry or re-send may be processed twice',
    );
  }
}
