/**
 * Stores the handler's response on the row claimed by the same transaction.
 * Locking: the row is already locked by this transaction's insert; no other waits on it longer.
 */
import type { PoolClient } from 'pg';

export async function storeInboxResponse(tx: PoolClient, messageId: string, response: Uint8Array): Promise<void> {
  await tx.query('UPDATE aegis_reliable_inbox SET response = $2 WHERE message_id = $1', [messageId, Buffer.from(response)]);
}
