/** Maps a `command_inbox` row (snake_case columns) to a {@link CommandRecord}. */
import type { CommandRecord, CommandStatus } from '../types.js';

/** The columns every command query selects. */
export const COMMAND_COLUMNS =
  'id, session_id, command_type, idempotency_key, payload, status, correlation_id, causation_id, result, created_at';

export interface CommandRow {
  id: string;
  session_id: string;
  command_type: string;
  idempotency_key: string | null;
  payload: Record<string, unknown>;
  status: CommandStatus;
  correlation_id: string;
  causation_id: string;
  result: unknown;
  created_at: Date;
}

export function toCommandRecord(row: CommandRow): CommandRecord {
  return {
    id: row.id,
    sessionId: row.session_id,
    commandType: row.command_type,
    idempotencyKey: row.idempotency_key,
    payload: row.payload,
    status: row.status,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    result: row.result,
    createdAt: new Date(row.created_at),
  };
}
