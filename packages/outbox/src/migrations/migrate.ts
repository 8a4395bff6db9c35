/**
 * Applies the numbered SQL migrations in `migrations/` that a database has not seen yet.
 *
 * Safe when several processes start at once: everything runs in ONE transaction that first
 * takes a transaction-scoped advisory lock, so a second process waits, then finds the versions
 * already recorded and applies nothing. DDL is transactional in PostgreSQL, so a failing
 * migration leaves no half-applied schema.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Database } from '../db/database.js';
import { MIGRATION_LOCK_NAMESPACE } from '../db/aggregate-lock-key.js';

const MIGRATIONS_DIR = new URL('./', import.meta.url);
const FILE_NAME = /^(\d{6})_([a-z0-9_]+)\.sql$/;

/** One migration file. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The migrations shipped with this package, in version order. */
export function loadMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .map((file) => FILE_NAME.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({
      version: Number(m[1]),
      name: m[2] ?? '',
      sql: readFileSync(new URL(m[0], MIGRATIONS_DIR), 'utf8'),
    }))
    .sort((a, b) => a.version - b.version);
}

/**
 * Brings `db` up to date. Returns the versions applied by this call (empty when none).
 * @throws the database error of a failing migration; nothing of the run is applied then.
 */
export async function migrate(db: Database, migrations: readonly Migration[] = loadMigrations()): Promise<number[]> {
  return db.transaction(
    async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, 1)', [MIGRATION_LOCK_NAMESPACE]);
      await tx.query(`CREATE TABLE IF NOT EXISTS aegis_outbox_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const rows = await tx.query<{ version: number }>('SELECT version FROM aegis_outbox_migrations');
      const done = new Set(rows.map((r) => Number(r.version)));
      const applied: number[] = [];
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await tx.query(m.sql);
        await tx.query('INSERT INTO aegis_outbox_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        applied.push(m.version);
      }
      return applied;
    },
    // READ COMMITTED: after waiting for the lock, the version list must show the other
    // process's commit (a REPEATABLE READ snapshot taken before the wait would not).
    { isolation: 'READ_COMMITTED' },
  );
}
