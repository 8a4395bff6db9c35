import type { Queryable } from '../db/database.js';
import type { CommandStatus } from '../types.js';

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
  await db.query(
    `UPDATE command_inbox
     SET status = $2, result = COALESCE($3::jsonb, result), error = COALESCE($4::jsonb, error), updated_at = now()
     WHERE id = $1`,
    [
      commandId,
      status,
      outcome.result === undefined ? null : JSON.stringify(outcome.result),
      outcome.error === undefined ? null : JSON.stringify(outcome.error),
    ],
  );
}
