import type { Queryable } from '../db/database.js';
import type { CommandRecord } from '../types.js';
import { COMMAND_COLUMNS, toCommandRecord, type CommandRow } from './command-row.js';

/**
 * The command first recorded with `idempotencyKey` for `sessionId`, if any.
 *
 * Locking: none (plain read, autocommit). Run after a failed insert, outside its transaction, so
 * it sees the winner's commit.
 */
export async function findCommandByIdempotencyKey(db: Queryable, sessionId: string, idempotencyKey: string): Promise<CommandRecord | undefined> {
  const rows = await db.query<CommandRow>(
    `SELECT ${COMMAND_COLUMNS} FROM command_inbox WHERE session_id = $1 AND idempotency_key = $2`,
    [sessionId, idempotencyKey],
  );
  return rows[0] === undefined ? undefined : toCommandRecord(rows[0]);
}
