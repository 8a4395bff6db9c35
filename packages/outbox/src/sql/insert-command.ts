import type { NamedStatement, Queryable, Transaction } from '../db/database.js';

/** Name of the OB-3 unique partial index; a violation of it means DUPLICATE_COMMAND. */
export const PENDING_COMMAND_INDEX = 'idx_command_inbox_unique_pending_command';
/** Name of the idempotency index; a violation means "this is a retry of an earlier command". */
export const IDEMPOTENCY_INDEX = 'idx_command_inbox_idempotency_key';

export interface InsertCommandParams {
  readonly id: string;
  readonly sessionId: string;
  readonly commandType: string;
  readonly idempotencyKey: string | undefined;
  readonly payload: unknown;
  readonly correlationId: string;
  readonly causationId: string;
}

/**
 * Inserts a RECEIVED command.
 *
 * Locking: the unique indexes take the row's index locks; a concurrent insert of the same
 * pending (session_id, command_type) or idempotency key waits for the first transaction and then
 * fails with 23505 naming the index. Not idempotent by itself: the writer maps the violation.
 */
const INSERT_COMMAND: NamedStatement = {
  name: 'aegis_outbox_insert_command_v1',
  text: `INSERT INTO command_inbox (id, session_id, command_type, idempotency_key, payload, correlation_id, causation_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
};

export async function insertCommand(db: Queryable, p: InsertCommandParams): Promise<void> {
  await db.query(INSERT_COMMAND, insertParams(p));
}

/**
 * The same insert among the statements sent with the transaction's COMMIT (for a command whose
 * outcome is known before anything is written): a violation fails the whole message.
 */
export function insertCommandAtCommit(tx: Transaction, p: InsertCommandParams): void {
  tx.queryAtCommit(INSERT_COMMAND, insertParams(p));
}

function insertParams(p: InsertCommandParams): unknown[] {
  return [p.id, p.sessionId, p.commandType, p.idempotencyKey ?? null, JSON.stringify(p.payload ?? {}), p.correlationId, p.causationId];
}
