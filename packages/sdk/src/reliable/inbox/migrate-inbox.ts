/**
 * Applies the numbered inbox migrations (`migrations/NNNNNN_name.sql`) a database has not seen.
 * One transaction behind a transaction-scoped advisory lock: instances starting together wait for
 * each other and the later ones find nothing to do; a failing migration leaves nothing applied.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Pool } from 'pg';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const FILE_NAME = /^(\d{6})_([a-z0-9_]+)\.sql$/;
/** Advisory lock key (two int4): "AEGI" + 4, the issue number. */
const LOCK_KEY: readonly [number, number] = [0x41454749, 4];

/** Brings the inbox schema up to date; returns the versions applied by this call. */
export async function migrateInbox(pool: Pool): Promise<number[]> {
  const migrations = readdirSync(MIGRATIONS_DIR)
    .map((file) => FILE_NAME.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ version: Number(m[1]), name: m[2] ?? '', sql: readFileSync(new URL(m[0], MIGRATIONS_DIR), 'utf8') }))
    .sort((a, b) => a.version - b.version);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS aegis_reliable_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM aegis_reliable_migrations');
    const done = new Set(rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO aegis_reliable_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
