/** Options of {@link OutboxRelay}: defaults defined once, resolved and validated once. */
import { AegisError } from '@aegis-ipc/protocol';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import { DEFAULT_RETRY_DELAYS_MS } from './retry-policy.js';

export interface OutboxRelayOptions {
  /** Fallback poll when no NOTIFY arrives (OB-4 `RELAY_POLL_INTERVAL`). @default 5000 */
  readonly pollIntervalMs?: number;
  /** Rows (aggregates) claimed per transaction (OB-4 `RELAY_BATCH_SIZE`). @default 100 */
  readonly batchSize?: number;
  /** Backoff before retries 1…n; after the last the row is FAILED (OB-5). @default [1000, 2000, 4000] */
  readonly retryDelaysMs?: readonly number[];
  /** Pause after a database error before trying again. @default 500 */
  readonly errorBackoffMs?: number;
  /** Names this relay in logs and metrics. @default 'relay-<random>' */
  readonly relayId?: string;
  readonly logger?: Logger;
}

export interface ResolvedRelayOptions {
  readonly pollIntervalMs: number;
  readonly batchSize: number;
  readonly retryDelaysMs: readonly number[];
  readonly errorBackoffMs: number;
  readonly relayId: string;
  readonly logger: Logger | undefined;
}

export const DEFAULT_POLL_INTERVAL_MS = 5_000;
export const DEFAULT_BATCH_SIZE = 100;
export const DEFAULT_ERROR_BACKOFF_MS = 500;

function positiveInt(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) throw new AegisError('CONFIG_INVALID', `${name} must be an integer in 1…${max}`);
  return value;
}

/** @throws AegisError `CONFIG_INVALID` */
export function resolveRelayOptions(options: OutboxRelayOptions = {}): ResolvedRelayOptions {
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  for (const d of delays) positiveInt('retryDelaysMs[]', d, 3_600_000);
  return Object.freeze({
    pollIntervalMs: positiveInt('pollIntervalMs', options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, 3_600_000),
    batchSize: positiveInt('batchSize', options.batchSize ?? DEFAULT_BATCH_SIZE, 10_000),
    retryDelaysMs: Object.freeze([...delays]),
    errorBackoffMs: positiveInt('errorBackoffMs', options.errorBackoffMs ?? DEFAULT_ERROR_BACKOFF_MS, 60_000),
    relayId: options.relayId ?? `relay-${randomUUID().slice(0, 8)}`,
    logger: options.logger,
  });
}
