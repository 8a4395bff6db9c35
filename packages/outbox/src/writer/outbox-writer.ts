/**
 * The writer: records a command, its domain events and their outbox rows in ONE transaction
 * (SPEC OB-2), REPEATABLE READ by default, with the aggregate locked before the transaction
 * starts so events of one aggregate get sequence numbers in commit order (docs/adr/0010).
 */
import { randomUUID } from 'node:crypto';
import { AegisError } from '@aegis-ipc/protocol';
import type { Database, Queryable, Transaction } from '../db/database.js';
import { insertCommand, insertCommandAtCommit } from '../sql/insert-command.js';
import { findCommandByIdempotencyKey } from '../sql/find-command-by-idempotency-key.js';
import { findPendingCommandId } from '../sql/find-pending-command.js';
import { findEventsCausedBy } from '../sql/find-events-caused-by.js';
import { appendEventsWithOutbox, appendEventsWithOutboxAtCommit, type AppendEventsParams } from '../sql/append-events-with-outbox.js';
import { lockCommand } from '../sql/lock-command.js';
import { findCommand } from '../sql/find-command.js';
import { updateCommandStatusAtCommit } from '../sql/update-command-status.js';
import { COMMAND_STATUS, type CommandRecord, type CommandStatus, type DomainEvent } from '../types.js';
import { assertEventName } from './event-name.js';
import { isRetryableTransactionError, isUniqueViolation, toStorageError } from './db-errors.js';
import { resolveTraceContext, traceHeaders, type TraceContext } from './trace-context.js';
import { writeInSpan, writeResultAttributes } from '../tracing/write-span.js';
import { requireText, validateInput } from './validate-input.js';
import { resolveWriterOptions, type OutboxWriterOptions, type ResolvedWriterOptions } from './writer-options.js';
import type { CommandHandler, CommandResult, EventDraft, FinishHandler, HandlerOutcome, SubmitCommandInput } from './command-types.js';

/** Everything an event needs besides its draft; used by {@link OutboxWriter.appendEvents}. */
export interface EventEnvelope {
  readonly correlationId: string;
  readonly causationId: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly trace: TraceContext;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** A command's new status, written together with its events. */
interface CommandUpdate {
  readonly id: string;
  readonly status: CommandStatus;
  readonly result?: unknown;
  readonly error?: unknown;
}

/** What decides a command's outcome: a handler run inside the transaction, or an outcome known up front. */
type CommandWork = { readonly handler: CommandHandler } | { readonly outcome: HandlerOutcome };

/**
 * @example
 * const writer = new OutboxWriter(db);
 * const res = await writer.submitCommand(
 *   { aggregateType: 'GENESIS_SESSION', sessionId, commandType: 'ConfirmStage', payload,
 *     correlationId: requestId, causationId: requestId },
 *   () => ({ outcome: 'completed', events: [{ eventType: 'Genesis.Session.StageConfirmed', payload }] }),
 * );
 */
export class OutboxWriter {
  private readonly options: ResolvedWriterOptions;

  constructor(
    private readonly db: Database,
    options: OutboxWriterOptions = {},
  ) {
    this.options = resolveWriterOptions(options);
  }

  /**
   * Records the command and runs `handler` in the same transaction; the handler's events and
   * their outbox rows are written before commit. A handler that throws leaves nothing behind.
   * @throws AegisError `DUPLICATE_COMMAND` (details.duplicate_command_id) when a command of the
   *   same type is still RECEIVED/PROCESSING for the aggregate; `VALIDATION_FAILED`;
   *   `EVENT_NAME_INVALID`; `STORAGE_FAILURE`; or whatever the handler throws.
   */
  submitCommand(input: SubmitCommandInput, handler: CommandHandler): Promise<CommandResult> {
    return this.traced('submit', input, { handler });
  }

  /**
   * Records a command whose outcome is already known — no handler, so nothing needs to be read
   * first: the command, its events, their outbox rows and its status are written in one
   * transaction sent as ONE message on PostgreSQL (locks, BEGIN, the command insert, the write,
   * COMMIT; a failure anywhere skips the rest). Same guarantees as {@link submitCommand}: a
   * pending duplicate is `DUPLICATE_COMMAND` with its id, an idempotency key replays the first
   * outcome, the aggregate lock is held, REPEATABLE READ by default (docs/adr/0013, round 4).
   * @throws AegisError `DUPLICATE_COMMAND`, `VALIDATION_FAILED`, `EVENT_NAME_INVALID`, `STORAGE_FAILURE`.
   * @example
   * await writer.recordCommand(input, { outcome: 'completed', events: [{ eventType: 'Genesis.Session.StageConfirmed' }] });
   */
  recordCommand(input: SubmitCommandInput, outcome: HandlerOutcome): Promise<CommandResult> {
    return this.traced('record', input, { outcome });
  }

  /** Validates, then writes inside the `ipc.outbox.write` span of both entry points. */
  private async traced(operation: 'submit' | 'record', input: SubmitCommandInput, how: CommandWork): Promise<CommandResult> {
    validateInput(input);
    return writeInSpan(
      input.trace,
      resolveTraceContext(input.trace),
      () => ({ 'ipc.outbox.operation': operation, 'ipc.outbox.command_type': input.commandType, 'ipc.outbox.aggregate_id': input.sessionId }),
      async (trace, span) => {
        const result = await this.submit(input, how, trace);
        span?.setAttributes(writeResultAttributes(result));
        return result;
      },
    );
  }

  /** A handler runs between the command insert and the write; a known outcome needs no wait. */
  private async submit(input: SubmitCommandInput, how: CommandWork, trace: TraceContext): Promise<CommandResult> {
    for (let attempt = 0; ; attempt++) {
      const commandId = input.commandId ?? randomUUID();
      try {
        return await this.db.transaction(
          async (tx) => {
            const insert = { ...input, id: commandId, idempotencyKey: input.idempotencyKey, payload: input.payload ?? {} };
            // With a handler the row must exist before it runs (a duplicate fails first, and the
            // handler may read its own command); a known outcome goes with COMMIT, after it.
            if ('handler' in how) await insertCommand(tx, insert);
            else insertCommandAtCommit(tx, insert);
            const command: CommandRecord = {
              id: commandId,
              sessionId: input.sessionId,
              commandType: input.commandType,
              idempotencyKey: input.idempotencyKey ?? null,
              payload: input.payload ?? {},
              status: COMMAND_STATUS.RECEIVED,
              correlationId: input.correlationId,
              causationId: input.causationId,
              result: null,
              createdAt: new Date(),
            };
            const outcome = 'handler' in how ? await how.handler({ tx, command }) : how.outcome;
            const status = outcome.outcome === 'completed' ? COMMAND_STATUS.COMPLETED : COMMAND_STATUS.RECEIVED;
            const update = status !== COMMAND_STATUS.RECEIVED || outcome.result !== undefined ? { id: commandId, status, result: outcome.result } : undefined;
            const events = this.writeOutcomeAtCommit(tx, outcome.events ?? [], this.envelopeFor(command, input.aggregateType, trace, input.metadata), update);
            return { commandId, status, events, result: outcome.result ?? null };
          },
          { isolation: this.options.isolation, lockKeys: [input.sessionId], wakeRelaysAfterCommit: true },
        ).then((r) => ({ ...r, events: r.events(), replayed: false }));
      } catch (err) {
        if (isUniqueViolation(err)) {
          const resolved = await this.resolveConflict(input);
          if (resolved !== undefined) return resolved;
        }
        // The duplicate finished between our insert and the lookup, or a serialization race:
        // the command may now go through, so try again (bounded).
        if ((isUniqueViolation(err) || isRetryableTransactionError(err)) && attempt < this.options.maxRetries) continue;
        throw toStorageError(err, `recording command ${input.commandType}`);
      }
    }
  }

  /**
   * Finishes an accepted (RECEIVED/PROCESSING) command: its new status, result and events are
   * written in one transaction, which also frees the OB-3 index for the next command of the type.
   * @throws AegisError `NOT_FOUND`, `COMMAND_NOT_PENDING`, `EVENT_NAME_INVALID`, `STORAGE_FAILURE`.
   */
  async finishCommand(
    commandId: string,
    aggregateType: string,
    handler: FinishHandler,
    options: { trace?: TraceContext; metadata?: Readonly<Record<string, unknown>> } = {},
  ): Promise<CommandResult> {
    return writeInSpan(
      options.trace,
      resolveTraceContext(options.trace),
      () => ({ 'ipc.outbox.operation': 'finish', 'ipc.outbox.command_id': commandId }),
      async (trace, span) => {
        const result = await this.finish(commandId, aggregateType, handler, trace, options.metadata);
        span?.setAttributes(writeResultAttributes(result));
        return result;
      },
    );
  }

  private async finish(
    commandId: string,
    aggregateType: string,
    handler: FinishHandler,
    trace: TraceContext,
    metadata: Readonly<Record<string, unknown>> | undefined,
  ): Promise<CommandResult> {
    const sessionId = await this.sessionOf(commandId);
    try {
      return await this.db.transaction(
        async (tx) => {
          const command = await lockCommand(tx, commandId);
          if (command === undefined) throw new AegisError('NOT_FOUND', `command ${commandId} does not exist`);
          if (command.status !== COMMAND_STATUS.RECEIVED && command.status !== COMMAND_STATUS.PROCESSING) {
            throw new AegisError('COMMAND_NOT_PENDING', `command ${commandId} is already ${command.status}`, {
              details: { command_id: commandId, status: command.status },
            });
          }
          const outcome = await handler({ tx, command });
          const status = outcome.outcome === 'completed' ? COMMAND_STATUS.COMPLETED : COMMAND_STATUS.FAILED;
          const update = { id: commandId, status, result: outcome.result, error: outcome.error };
          const events = this.writeOutcomeAtCommit(tx, outcome.events ?? [], this.envelopeFor(command, aggregateType, trace, metadata), update);
          return { commandId, status, events, result: outcome.result ?? null };
        },
        { isolation: this.options.isolation, lockKeys: [sessionId], wakeRelaysAfterCommit: true },
      ).then((r) => ({ ...r, events: r.events(), replayed: false }));
    } catch (err) {
      throw toStorageError(err, `finishing command ${commandId}`);
    }
  }

  /** Marks an accepted command PROCESSING (a worker picked it up); still a pending duplicate. */
  async markProcessing(commandId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const command = await lockCommand(tx, commandId);
      if (command === undefined) throw new AegisError('NOT_FOUND', `command ${commandId} does not exist`);
      if (command.status !== COMMAND_STATUS.RECEIVED) {
        throw new AegisError('COMMAND_NOT_PENDING', `command ${commandId} is ${command.status}, not RECEIVED`, {
          details: { command_id: commandId, status: command.status },
        });
      }
      updateCommandStatusAtCommit(tx, commandId, COMMAND_STATUS.PROCESSING);
    });
  }

  /**
   * Low level: appends events (and outbox rows) inside a transaction the caller owns. The caller
   * must hold the aggregate's lock (`transaction(fn, { lockKeys: [aggregateId] })`) or order per
   * aggregate is not guaranteed. Correlation and causation ids are required. Pass
   * `wakeRelaysAfterCommit: true` too, as the writer does, or the outbox trigger wakes the relays
   * from inside the transaction, which serializes concurrent commits on PostgreSQL (ADR 0013).
   * @throws AegisError `EVENT_NAME_INVALID`, `VALIDATION_FAILED`.
   */
  async appendEvents(tx: Queryable, drafts: readonly EventDraft[], envelope: EventEnvelope): Promise<DomainEvent[]> {
    const write = this.outcomeWrite(drafts, envelope, undefined);
    return write === undefined ? [] : appendEventsWithOutbox(tx, write);
  }

  /**
   * Events, their outbox rows and the command's new status as ONE statement (see
   * `sql/append-events-with-outbox.ts`), sent with the transaction's COMMIT: the command's second
   * and last round trip. Every draft is validated before anything is written. The events are
   * readable once the transaction committed.
   */
  private writeOutcomeAtCommit(tx: Transaction, drafts: readonly EventDraft[], envelope: EventEnvelope, command: CommandUpdate | undefined): () => DomainEvent[] {
    const write = this.outcomeWrite(drafts, envelope, command);
    if (write !== undefined) return appendEventsWithOutboxAtCommit(tx, write);
    // No outbox row, so no statement that would wake the relays for nothing.
    if (command !== undefined) updateCommandStatusAtCommit(tx, command.id, command.status, command);
    return () => [];
  }

  /** Validates the drafts; the append statement's parameters, or undefined when there are no events. */
  private outcomeWrite(drafts: readonly EventDraft[], envelope: EventEnvelope, command: CommandUpdate | undefined): AppendEventsParams | undefined {
    requireText('correlation_id', envelope.correlationId);
    requireText('causation_id', envelope.causationId);
    for (const draft of drafts) assertEventName(draft.eventType);
    for (const draft of drafts) {
      const version = draft.eventVersion ?? 1;
      if (!Number.isInteger(version) || version < 1) requireText('event_version', '');
    }
    if (drafts.length === 0) return undefined;
    return {
      correlationId: envelope.correlationId,
      causationId: envelope.causationId,
      aggregateType: envelope.aggregateType,
      aggregateId: envelope.aggregateId,
      topic: this.options.topic,
      headers: traceHeaders(envelope.trace),
      events: drafts.map((draft) => ({
        eventId: randomUUID(),
        eventType: draft.eventType,
        eventVersion: draft.eventVersion ?? 1,
        payload: draft.payload ?? {},
        metadata: { ...envelope.metadata, ...draft.metadata, trace: envelope.trace },
      })),
      command,
    };
  }

  /** Events of a command: correlated with its flow, caused by the command itself. */
  private envelopeFor(
    command: CommandRecord,
    aggregateType: string,
    trace: TraceContext,
    metadata: Readonly<Record<string, unknown>> | undefined,
  ): EventEnvelope {
    return {
      correlationId: command.correlationId,
      causationId: command.id,
      aggregateType,
      aggregateId: command.sessionId,
      trace,
      metadata: { ...metadata, command_id: command.id, command_type: command.commandType },
    };
  }

  /** After a unique violation: an idempotent retry (answer it) or a duplicate (throw 409). */
  private async resolveConflict(input: SubmitCommandInput): Promise<CommandResult | undefined> {
    if (input.idempotencyKey !== undefined) {
      const first = await findCommandByIdempotencyKey(this.db, input.sessionId, input.idempotencyKey);
      if (first !== undefined) {
        if (first.commandType !== input.commandType) {
          throw new AegisError('VALIDATION_FAILED', 'idempotency key was already used for a different command type', {
            details: { fields: [{ path: '/idempotency_key', message: `already used for ${first.commandType}` }] },
          });
        }
        const events = await findEventsCausedBy(this.db, first.id);
        return { commandId: first.id, status: first.status, events, result: first.result, replayed: true };
      }
    }
    const pendingId = await findPendingCommandId(this.db, input.sessionId, input.commandType);
    if (pendingId !== undefined) {
      throw new AegisError('DUPLICATE_COMMAND', 'Command already processing', { details: { duplicate_command_id: pendingId } });
    }
    return undefined;
  }

  private async sessionOf(commandId: string): Promise<string> {
    const command = await findCommand(this.db, commandId);
    if (command === undefined) throw new AegisError('NOT_FOUND', `command ${commandId} does not exist`);
    return command.sessionId;
  }
}
