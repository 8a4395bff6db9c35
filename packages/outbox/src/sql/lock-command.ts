import type { NamedStatement, Queryable } from '../db/database.js';
import type { CommandRecord } from '../types.js';
import { COMMAND_COLUMNS, toCommandRecord, type CommandRow } from './command-row.js';

const LOCK_COMMAND: NamedStatement = {
  name: 'aegis_outbox_lock_command_v1',
  text: `SELECT ${COMMAND_COLUMNS} FROM command_inbox WHERE id = $1 FOR UPDATE`,
};

/**
 * Loads a command and locks its row for the rest of the transaction.
 *
 * Locking: FOR UPDATE — two workers finishing the same command serialize here; the second sees
 * the first's status (the writer holds the aggregate lock before BEGIN, so its snapshot is fresh).
 */
export async function lockCommand(db: Queryable, commandId: string): Promise<CommandRecord | undefined> {
  const rows = await db.query<CommandRow>(LOCK_COMMAND, [commandId]);
  return rows[0] === undefined ? undefined : toCommandRecord(rows[0]);
}
