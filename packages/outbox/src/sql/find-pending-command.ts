import type { Queryable } from '../db/database.js';

/**
 * Id of the RECEIVED/PROCESSING command of `commandType` for `sessionId` (served by the OB-3
 * partial index), or undefined when it finished in the meantime.
 *
 * Locking: none (plain read, autocommit); used to fill `duplicate_command_id`.
 */
export async function findPendingCommandId(db: Queryable, sessionId: string, commandType: string): Promise<string | undefined> {
  const rows = await db.query<{ id: string }>(
    `SELECT id FROM command_inbox
     WHERE session_id = $1 AND command_type = $2 AND status IN ('RECEIVED', 'PROCESSING')`,
    [sessionId, commandType],
  );
  return rows[0]?.id;
}
