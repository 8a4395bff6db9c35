import type { NamedStatement, Queryable, Transaction } from '../db/database.js';
import type { CommandStatus } from '../types.js';

const UPDATE_COMMAND_STATUS: NamedStatement = {
  name: 'aegis_outbox_update_command_status_v1',
  text: `UPDATE command_inbox
     SET status = $2, result = COALESCE($3::jsonb, result), error = COALESCE($4::jsonb, error), updated_at = now()
     WHERE id = $1`,
};

/**
 * Moves a command to `status`, storing its result or error. Leaving RECEIVED/PROCESSING releases
 * the OB-3 partial index, so the same command type may be sent again for the aggregate.
 *
 * Locking: row lock on the command until the transaction ends. Idempotent for the same values.
 */
export async function updateCommandStatus(
  db: Queryable,
  commandId: string,
  status: CommandStatus,
  outcome: { result?: unknown; error?: unknown } = {},
): Promise<void> {
  await db.query(UPDATE_COMMAND_STATUS, statusParams(commandId, status, outcome));
}

/** The same update as the transaction's last statement, sent with its COMMIT. */
export function updateCommandStatusAtCommit(
  tx: Transaction,
  commandId: string,
  status: CommandStatus,
  outcome: { result?: unknown; error?: unknown } = {},
): void {
  tx.queryAtCommit(UPDATE_COMMAND_STATUS, statusParams(commandId, status, outcome));
}

function statusParams(commandId: string, status: CommandStatus, outcome: { result?: unknown; error?: unknown }): unknown[] {
  return [
    commandId,
    status,
    outcome.result === undefined ? null : JSON.stringify(outcome.result),
    outcome.error === undefined ? null : JSON.stringify(outcome.error),
  ];
}
