/**
 * Opens the outbox database named by the settings and migrates it — the first thing the relay
 * and `aegis outbox` do — and says which database failed when that does not work.
 */
import type { Logger } from 'pino';
import { AegisError } from '@aegis-ipc/protocol';
import { migrate } from '../migrations/migrate.js';
import { redactUrl } from '../redact-url.js';
import type { OutboxSettings } from '../settings.js';
import type { Database } from './database.js';
import { openDatabase } from './open-database.js';

export interface OpenOutboxDatabaseOptions {
  /** @default the settings' `poolSize` */
  readonly poolSize?: number;
  readonly applicationName?: string;
  readonly logger?: Logger;
}

/**
 * @throws AegisError `STORAGE_FAILURE` naming the database (PostgreSQL URL without its password,
 *   or the PGlite directory) and the driver's reason — instead of a bare `ECONNREFUSED`
 */
export async function openOutboxDatabase(
  settings: Pick<OutboxSettings, 'databaseUrl' | 'pgliteDir' | 'poolSize'>,
  options: OpenOutboxDatabaseOptions = {},
): Promise<Database> {
  const where =
    settings.databaseUrl !== undefined && settings.databaseUrl !== ''
      ? `PostgreSQL at ${redactUrl(settings.databaseUrl)} (DATABASE_URL)`
      : `the embedded PGlite database in ${settings.pgliteDir} (AEGIS_PG_DIR)`;
  let db: Database | undefined;
  try {
    db = await openDatabase({
      databaseUrl: settings.databaseUrl,
      pgliteDir: settings.pgliteDir,
      poolSize: options.poolSize ?? settings.poolSize,
      applicationName: options.applicationName,
      logger: options.logger,
    });
    await migrate(db);
    return db;
  } catch (err) {
    await db?.close().catch(() => undefined);
    if (err instanceof AegisError) throw err;
    throw new AegisError('STORAGE_FAILURE', `cannot open the outbox database, ${where}: ${(err as Error).message}`, { cause: err, details: { database: where } });
  }
}
