/** Chooses the storage: PostgreSQL when a URL is given, embedded PGlite otherwise (DESIGN). */
import type { Logger } from 'pino';
import type { Database } from './database.js';
import { PgDatabase } from './pg-database.js';
import { PgliteDatabase } from './pglite-database.js';

export interface OpenDatabaseOptions {
  /** PostgreSQL URL; when unset the embedded PGlite under `pgliteDir` is used. */
  readonly databaseUrl?: string;
  /** @default './.aegis/pg' */
  readonly pgliteDir?: string;
  /** @default 10 */
  readonly poolSize?: number;
  /** @default 'aegis-outbox' */
  readonly applicationName?: string;
  readonly logger?: Logger;
}

/** Opens the database the options point at. Does not migrate: call `migrate(db)` next. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    return new PgDatabase({
      connectionString: options.databaseUrl,
      poolSize: options.poolSize,
      applicationName: options.applicationName,
      logger: options.logger,
    });
  }
  return PgliteDatabase.open(options.pgliteDir ?? './.aegis/pg');
}
