/**
 * `@aegis-ipc/outbox` — transactional outbox and command inbox on PostgreSQL (or embedded PGlite),
 * and the relay that publishes the outbox to NATS JetStream or Redis Streams (SPEC §5).
 *
 * @example
 * import { openDatabase, migrate, OutboxWriter, OutboxRelay, NatsJetStreamSink } from '@aegis-ipc/outbox';
 * const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL });
 * await migrate(db);
 * const writer = new OutboxWriter(db);
 * await writer.submitCommand(
 *   { aggregateType: 'GENESIS_SESSION', sessionId, commandType: 'ConfirmStage', payload: { stage },
 *     correlationId: requestId, causationId: requestId },
 *   () => ({ outcome: 'completed', events: [{ eventType: 'Genesis.Session.StageConfirmed', payload: { stage } }] }),
 * ); // throws AegisError DUPLICATE_COMMAND while one is pending
 * const relay = new OutboxRelay(db, await NatsJetStreamSink.create());
 * await relay.start();
 */
export {
  type Database,
  type Queryable,
  type Transaction,
  type AtCommit,
  type NamedStatement,
  type IsolationLevel,
  type TransactionOptions,
  type PrefetchedTransaction,
  ISOLATION_LEVELS,
  OUTBOX_CHANNEL,
} from './db/database.js';
export { openDatabase, type OpenDatabaseOptions } from './db/open-database.js';
export { openOutboxDatabase, type OpenOutboxDatabaseOptions } from './db/open-outbox-database.js';
export { PgDatabase, type PgDatabaseOptions } from './db/pg-database.js';
export { PgliteDatabase } from './db/pglite-database.js';
export { migrate, loadMigrations, type Migration } from './migrations/migrate.js';
export { OutboxWriter, type EventEnvelope } from './writer/outbox-writer.js';
export type {
  SubmitCommandInput,
  EventDraft,
  HandlerOutcome,
  FinishOutcome,
  HandlerContext,
  CommandHandler,
  FinishHandler,
  CommandResult,
} from './writer/command-types.js';
export { type OutboxWriterOptions, DEFAULT_TOPIC } from './writer/writer-options.js';
export { EVENT_ACTIONS, eventNameProblem, assertEventName, type EventAction } from './writer/event-name.js';
export { type TraceContext } from './writer/trace-context.js';
export { OutboxRelay, type BatchResult } from './relay/outbox-relay.js';
export { type OutboxRelayOptions, DEFAULT_POLL_INTERVAL_MS, DEFAULT_BATCH_SIZE } from './relay/relay-options.js';
export { DEFAULT_RETRY_DELAYS_MS, nextRetryDelay } from './relay/retry-policy.js';
export { type RelayMetrics } from './relay/relay-metrics.js';
export { startRelayProcess, resolveOutboxSettings, type RelayProcess } from './relay/run-relay.js';
export { type OutboxSink } from './sinks/outbox-sink.js';
export { NatsJetStreamSink, subjectFor, EVENT_HEADERS, type NatsJetStreamSinkOptions } from './sinks/nats-jetstream-sink.js';
export { RedisStreamsSink, type RedisStreamsSinkOptions } from './sinks/redis-streams-sink.js';
export { listFailed, replayFailed, stats } from './admin/outbox-admin.js';
export { listAggregateEvents } from './sql/list-aggregate-events.js';
export { OUTBOX_SETTINGS, type OutboxSettings } from './settings.js';
export {
  COMMAND_STATUS,
  OUTBOX_STATUS,
  type CommandStatus,
  type OutboxStatus,
  type CommandRecord,
  type DomainEvent,
  type OutboxRecord,
  type OutboxRowSummary,
  type OutboxStats,
} from './types.js';
