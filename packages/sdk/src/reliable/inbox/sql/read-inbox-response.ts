/**
 * Reads the stored response of a processed id. Plain snapshot read, no locks: the row is only
 * visible once its transaction committed, and committed rows never change.
 */
import type { Pool } from 'pg';

/** The stored response bytes; `undefined` when the id has no committed row. */
export async function readInboxResponse(pool: Pool, messageId: string): Promise<Uint8Array | null | undefined> {
  const { rows } = await pool.query<{ response: Buffer | null }>('SELECT response FROM aegis_reliable_inbox WHERE message_id = $1', [messageId]);
  if (rows.length === 0) return undefined;
  return rows[0]?.response ?? null;
}
