/**
 * Inserts the inbox row of `messageId` inside the handler's transaction.
 * Locking: the primary key makes a concurrent insert of the same id WAIT for this transaction;
 * if it commits the other gets no row (a duplicate), if it rolls back the other's insert wins.
 * Exactly one transaction per id ever commits a row. Idempotent by ON CONFLICT DO NOTHING.
 */
import type { PoolClient } from 'pg';

/** True when this transaction now owns the id; false when it was processed already. */
export async function claimInboxRow(tx: PoolClient, messageId: string, serviceName: string): Promise<boolean> {
  const result = await tx.query(
    'INSERT INTO aegis_reliable_inbox (message_id, service_name) VALUES ($1, $2) ON CONFLICT (message_id) DO NOTHING',
    [messageId, serviceName],
  );
  return result.rowCount === 1;
}
