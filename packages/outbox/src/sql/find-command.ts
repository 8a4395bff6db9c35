import type { Queryable } from '../db/database.js';
import type { CommandRecord } from '../types.js';
import { COMMAND_COLUMNS, toCommandRecord, type CommandRow } from './command-row.js';

/** A command by id. Locking: none (plain read). */
export async function findCommand(db: Queryable, commandId: string): Promise<CommandRecord | undefined> {
  const rows = await db.query<CommandRow>(`SELECT ${COMMAND_COLUMNS} FROM command_inbox WHERE id = $1`, [commandId]);
  return rows[0] === undefined ? undefined : toCommandRecord(rows[0]);
}
