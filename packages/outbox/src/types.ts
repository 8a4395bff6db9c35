/** Row shapes and status values shared by the writer, the relay and the admin queries. */

/** Lifecycle of a command in `command_inbox` (OB-3: RECEIVED/PROCESSING count as pending). */
export const COMMAND_STATUS = {
  RECEIVED: 'RECEIVED',
  PROCESSING: 'PROCESSING',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
} as const;
export type CommandStatus = (typeof COMMAND_STATUS)[keyof typeof COMMAND_STATUS];

/** Lifecycle of an `event_outbox` row (OB-4, OB-5). */
export const OUTBOX_STATUS = {
  PENDING: 'PENDING',
  SENT: 'SENT',
  FAILED: 'FAILED',
} as const;
export type OutboxStatus = (typeof OUTBOX_STATUS)[keyof typeof OUTBOX_STATUS];

/** A command as stored in `command_inbox`. */
export interface CommandRecord {
  readonly id: string;
  readonly sessionId: string;
  readonly commandType: string;
  readonly idempotencyKey: string | null;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly status: CommandStatus;
  readonly correlationId: string;
  readonly causationId: string;
  readonly result: unknown;
  readonly createdAt: Date;
}

/** A domain event as stored in `domain_events` and published by the relay (snake_case on the wire). */
export interface DomainEvent {
  readonly sequence: number;
  readonly event_id: string;
  readonly correlation_id: string;
  readonly causation_id: string;
  readonly event_type: string;
  readonly event_version: number;
  readonly aggregate_type: string;
  readonly aggregate_id: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly created_at: string;
}

/** One claimed `event_outbox` row, as handed to a sink. */
export interface OutboxRecord {
  readonly id: number;
  readonly eventId: string;
  readonly topic: string;
  /** The aggregate id: order is kept per key. */
  readonly key: string;
  /** The full {@link DomainEvent}. */
  readonly payload: DomainEvent;
  /** `traceparent`/`tracestate` captured when the event was written. */
  readonly headers: Readonly<Record<string, string>>;
  /** Publish attempts before this one. */
  readonly attempts: number;
  readonly createdAt: Date;
}

/** A `FAILED` (or any) outbox row as listed by `aegis outbox failed`. */
export interface OutboxRowSummary {
  readonly id: number;
  readonly eventId: string;
  readonly topic: string;
  readonly key: string;
  readonly eventType: string;
  readonly status: OutboxStatus;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly createdAt: Date;
}

/** Backlog figures for `aegis outbox stats` and the relay metrics. */
export interface OutboxStats {
  readonly pending: number;
  readonly sent: number;
  readonly failed: number;
  /** Age of the oldest PENDING row in seconds, 0 when none. */
  readonly oldestPendingAgeSeconds: number;
}
