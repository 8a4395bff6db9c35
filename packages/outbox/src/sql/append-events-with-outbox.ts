import type { NamedStatement, Queryable, Transaction } from '../db/database.js';
import type { CommandStatus, DomainEvent } from '../types.js';

/** One event of {@link AppendEventsParams}; the envelope fields are shared by all of them. */
export interface EventRowParams {
  readonly eventId: string;
  readonly eventType: string;
  readonly eventVersion: number;
  readonly payload: unknown;
  readonly metadata: unknown;
}

export interface AppendEventsParams {
  readonly correlationId: string;
  readonly causationId: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly topic: string;
  readonly headers: Readonly<Record<string, string>>;
  /** In order: they get increasing `sequence` and outbox ids in this order. At least one. */
  readonly events: readonly EventRowParams[];
  /** Also move this command to `status` (with its result/error) in the same statement. */
  readonly command?: { readonly id: string; readonly status: CommandStatus; readonly result?: unknown; readonly error?: unknown };
}

const APPEND_EVENTS: NamedStatement = {
  name: 'aegis_outbox_append_events_v1',
  text: `WITH input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb)
         AS x(ord integer, event_id uuid, event_type text, event_version integer, payload jsonb, metadata jsonb)
     ), ev AS (
       INSERT INTO domain_events
         (event_id, correlation_id, causation_id, event_type, event_version, aggregate_type, aggregate_id, payload, metadata)
       SELECT event_id, $2, $3, event_type, event_version, $4, $5, payload, metadata FROM input ORDER BY ord
       RETURNING *
     ), body AS (
       SELECT ev.sequence, ev.event_id, ev.aggregate_id, jsonb_build_object(
         'sequence', ev.sequence, 'event_id', ev.event_id, 'correlation_id', ev.correlation_id,
         'causation_id', ev.causation_id, 'event_type', ev.event_type, 'event_version', ev.event_version,
         'aggregate_type', ev.aggregate_type, 'aggregate_id', ev.aggregate_id, 'payload', ev.payload,
         'metadata', ev.metadata, 'created_at', ev.created_at) AS event
       FROM ev
     ), ob AS (
       INSERT INTO event_outbox (event_id, topic, key, payload, headers)
       SELECT event_id, $6, aggregate_id, event, $7::jsonb FROM body ORDER BY sequence
     ), cmd AS (
       UPDATE command_inbox
       SET status = $9, result = COALESCE($10::jsonb, result), error = COALESCE($11::jsonb, error), updated_at = now()
       WHERE $8::uuid IS NOT NULL AND id = $8::uuid
     )
     SELECT event FROM body ORDER BY sequence`,
};

/**
 * Appends events to `domain_events`, their PENDING rows to `event_outbox` and — optionally — the
 * command's new status, in ONE statement (one round trip and one NOTIFY however many events).
 * The outbox payload is the stored event, built by the database so `sequence` and `created_at`
 * are the real ones. Rows are inserted in `events` order, so `sequence` and the outbox id (what
 * the relay orders by) follow it.
 *
 * Locking: the new rows, plus the command's row lock when `command` is given. The caller holds
 * the aggregate's advisory lock, which is what makes `sequence` (and the outbox id) grow in
 * commit order per aggregate. Not idempotent: `event_id` is unique, a repeat fails with 23505.
 */
export async function appendEventsWithOutbox(db: Queryable, p: AppendEventsParams): Promise<DomainEvent[]> {
  return eventsOf(await db.query<{ event: DomainEvent }>(APPEND_EVENTS, appendParams(p)), p);
}

/**
 * The same statement as the transaction's last, sent with its COMMIT (one round trip for both;
 * if it fails, COMMIT is not executed). The events are readable once the transaction committed.
 */
export function appendEventsWithOutboxAtCommit(tx: Transaction, p: AppendEventsParams): () => DomainEvent[] {
  const written = tx.queryAtCommit<{ event: DomainEvent }>(APPEND_EVENTS, appendParams(p));
  return () => eventsOf(written.rows, p);
}

function appendParams(p: AppendEventsParams): unknown[] {
  return [
    JSON.stringify(
      p.events.map((e, ord) => ({
        ord,
        event_id: e.eventId,
        event_type: e.eventType,
        event_version: e.eventVersion,
        payload: e.payload ?? {},
        metadata: e.metadata ?? {},
      })),
    ),
    p.correlationId,
    p.causationId,
    p.aggregateType,
    p.aggregateId,
    p.topic,
    JSON.stringify(p.headers),
    p.command?.id ?? null,
    p.command?.status ?? null,
    p.command?.result === undefined ? null : JSON.stringify(p.command.result),
    p.command?.error === undefined ? null : JSON.stringify(p.command.error),
  ];
}

function eventsOf(rows: ReadonlyArray<{ event: DomainEvent }>, p: AppendEventsParams): DomainEvent[] {
  if (rows.length !== p.events.length) throw new Error(`insert into domain_events returned ${rows.length} rows for ${p.events.length} events`);
  return rows.map((r) => r.event);
}
