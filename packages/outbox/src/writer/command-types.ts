/** Inputs and outputs of the {@link OutboxWriter}. */
import type { Queryable } from '../db/database.js';
import type { CommandRecord, CommandStatus, DomainEvent } from '../types.js';
import type { TraceContext } from './trace-context.js';

/** A command to record (OB-1/OB-2). */
export interface SubmitCommandInput {
  /** @default a new UUID v4 */
  readonly commandId?: string;
  /** Aggregate type of the events, e.g. `GENESIS_SESSION`. */
  readonly aggregateType: string;
  /** The aggregate the command targets (the `session_id` of OB-3); also the outbox key. */
  readonly sessionId: string;
  readonly commandType: string;
  readonly payload?: Readonly<Record<string, unknown>>;
  /** A client's retry key: a second submit with the same key returns the first outcome. */
  readonly idempotencyKey?: string;
  /** Required: ties every message of one business flow together. */
  readonly correlationId: string;
  /** Required: what caused this command (a request id, or the event that triggered it). */
  readonly causationId: string;
  /** Trace context of the request; a new root is made when omitted. */
  readonly trace?: TraceContext;
  /** Merged into every event's metadata (user id, source service…). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** An event a handler emits; correlation, causation, aggregate and trace are filled in. */
export interface EventDraft {
  /** `<Domain>.<AggregateRoot>[.<Sub>].<Action>` (OB-6). */
  readonly eventType: string;
  readonly payload?: Readonly<Record<string, unknown>>;
  /** @default 1 */
  readonly eventVersion?: number;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** What a command handler decided. */
export interface HandlerOutcome {
  /**
   * `completed`: done now (status COMPLETED, HTTP 200). `accepted`: recorded as RECEIVED for a
   * worker to finish later with `finishCommand` (HTTP 202); it stays a pending duplicate until then.
   */
  readonly outcome: 'completed' | 'accepted';
  readonly events?: readonly EventDraft[];
  readonly result?: unknown;
}

/** What a worker decided when finishing an accepted command. */
export interface FinishOutcome {
  readonly outcome: 'completed' | 'failed';
  readonly events?: readonly EventDraft[];
  readonly result?: unknown;
  readonly error?: unknown;
}

/** Context a handler runs with: its writes share the command's transaction. */
export interface HandlerContext {
  readonly tx: Queryable;
  readonly command: CommandRecord;
}

export type CommandHandler = (ctx: HandlerContext) => Promise<HandlerOutcome> | HandlerOutcome;
export type FinishHandler = (ctx: HandlerContext) => Promise<FinishOutcome> | FinishOutcome;

/** The outcome of a submit or finish. */
export interface CommandResult {
  readonly commandId: string;
  readonly status: CommandStatus;
  readonly events: readonly DomainEvent[];
  readonly result: unknown;
  /** True when an idempotency key matched an earlier command: nothing new was written. */
  readonly replayed: boolean;
}
