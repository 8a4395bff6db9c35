/** Options of {@link OutboxWriter}: defaults defined once, resolved and validated once. */
import { AegisError, assertTopic } from '@aegis-ipc/protocol';
import type { Logger } from 'pino';
import type { IsolationLevel } from '../db/database.js';
import { ISOLATION_LEVELS } from '../db/database.js';

export interface OutboxWriterOptions {
  /** Topic of the outbox rows (OB-4). @default 'domain-events' */
  readonly topic?: string;
  /** Isolation of command transactions. @default 'REPEATABLE_READ' */
  readonly isolation?: IsolationLevel;
  /** How often a transaction that lost a race (serialization failure, vanished duplicate) is retried. @default 3 */
  readonly maxRetries?: number;
  readonly logger?: Logger;
}

export const DEFAULT_TOPIC = 'domain-events';
export const DEFAULT_ISOLATION: IsolationLevel = 'REPEATABLE_READ';
export const DEFAULT_WRITER_RETRIES = 3;

export interface ResolvedWriterOptions {
  readonly topic: string;
  readonly isolation: IsolationLevel;
  readonly maxRetries: number;
  readonly logger: Logger | undefined;
}

/** @throws AegisError `CONFIG_INVALID` / `INVALID_NAME` for a bad option. */
export function resolveWriterOptions(options: OutboxWriterOptions = {}): ResolvedWriterOptions {
  const topic = options.topic ?? DEFAULT_TOPIC;
  assertTopic(topic);
  const isolation = options.isolation ?? DEFAULT_ISOLATION;
  if (!Object.hasOwn(ISOLATION_LEVELS, isolation)) {
    throw new AegisError('CONFIG_INVALID', `isolation must be one of ${Object.keys(ISOLATION_LEVELS).join(', ')}`);
  }
  const maxRetries = options.maxRetries ?? DEFAULT_WRITER_RETRIES;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new AegisError('CONFIG_INVALID', 'maxRetries must be an integer ≥ 0');
  return Object.freeze({ topic, isolation, maxRetries, logger: options.logger });
}
