/**
 * Exactly-once calls (issue 4, SPEC §3): the caller (`client.callReliable`), the receiver
 * (`ReliableReceiver.start(instance, …)`), message status, dead letters and replay.
 *
 * @example
 * const receiver = await ReliableReceiver.start(instance, { idempotency: { pool } });
 * const res = await client.callReliable('billing', 'charge', { amount: 5 }, { messageId });
 */
export { ReliableCaller, type ReliableCallOptions, type ReliableCallerOptions } from './reliable-caller.js';
export { ReliableReceiver } from './reliable-receiver.js';
export { resolveReceiverOptions, warnOnShortTtl, DEFAULT_STATUS_TTL_MS, DEFAULT_RECEIVER_CONCURRENCY, type ReliableReceiverOptions, type ResolvedReceiverOptions, type Idempotency } from './receiver-options.js';
export { inboxTransaction, type ReliableCallContext } from './reliable-call-context.js';
export { MessageStatusStore, MESSAGE_STATES, type MessageState, type MessageStatus } from './message-status.js';
export { listDeadLetters, readDeadLetter, type ReliableDeadLetter } from './dead-letter.js';
export { replayMessage } from './replay-message.js';
export { parkStalledRequest, maxDeliveriesAdvisorySubject, type HeldRequest, type ParkedRequest } from './park-stalled.js';
export { reliableMetrics, type ReliableMetrics } from './reliable-metrics.js';
export type { AckMessage } from './ack-message.js';
export { migrateInbox } from './inbox/migrate-inbox.js';
export { pruneInbox } from './inbox/sql/prune-inbox.js';
export {
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_MAX_RETRIES,
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_RESPONSE_TTL_MS,
  DEFAULT_DUPLICATE_WINDOW_MS,
  ackWaits,
  retryHorizonMs,
  retryDelayMs,
  resolveRetrySchedule,
  type RetrySchedule,
} from './reliable-options.js';
export { RELIABLE_STREAM, RELIABLE_DLQ_STREAM, MESSAGE_STATUS_BUCKET, RELIABLE_STREAM_LIMITS, consumerNameOf } from './reliable-topology.js';
