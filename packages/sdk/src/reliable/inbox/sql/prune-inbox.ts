/**
 * Deletes inbox rows older than `olderThanMs`. Row locks only on the deleted rows; a duplicate of a
 * pruned id would be processed again, so prune well past the retry horizon and duplicate window.
 */
import type { Pool } from 'pg';

export async function pruneInbox(pool: Pool, olderThanMs: number): Promise<number> {
  const result = await pool.query("DELETE FROM aegis_reliable_inbox WHERE processed_at < now() - ($1::bigint * interval '1 millisecond')", [olderThanMs]);
  return result.rowCount ?? 0;
}
