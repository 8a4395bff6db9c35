/**
 * {@link Database} on embedded PGlite (the default when no `DATABASE_URL` is set). PGlite is a
 * single connection inside this process: transactions run one at a time, so advisory locks are
 * unnecessary (and would be re-entrant anyway) — serial transactions already make sequence order
 * equal commit order.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { ISOLATION_LEVELS, type Database, type NamedStatement, type Queryable, type TransactionOptions } from './database.js';

interface PgliteLike {
  query<R>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
  exec(text: string): Promise<Array<{ rows: unknown[] }>>;
}

class PgliteQueryable implements Queryable {
  constructor(private readonly target: PgliteLike) {}
  async query<R extends object>(sql: string | NamedStatement, params: readonly unknown[] = []): Promise<R[]> {
    // One connection, in process: a statement name buys nothing here.
    const text = typeof sql === 'string' ? sql : sql.text;
    if (params.length === 0) {
      // Like pg's simple protocol: several statements allowed (migrations); last result wins.
      const results = await this.target.exec(text);
      return (results.at(-1)?.rows ?? []) as R[];
    }
    const result = await this.target.query<R>(text, [...params]);
    return result.rows;
  }
}

export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  private readonly direct: PgliteQueryable;

  private constructor(private readonly db: PGlite) {
    this.direct = new PgliteQueryable(db);
  }

  /** Opens (creating when missing) the data directory `dataDir`; `undefined` keeps data in memory. */
  static async open(dataDir?: string): Promise<PgliteDatabase> {
    if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
    const db = await PGlite.create(dataDir === undefined ? undefined : { dataDir });
    return new PgliteDatabase(db);
  }

  query<R extends object>(sql: string | NamedStatement, params?: readonly unknown[]): Promise<R[]> {
    return this.direct.query<R>(sql, params);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return this.db.transaction(async (tx) => {
      await tx.query(`SET TRANSACTION ISOLATION LEVEL ${ISOLATION_LEVELS[options.isolation ?? 'REPEATABLE_READ']}`);
      return fn(new PgliteQueryable(tx));
    });
  }

  async listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
    const unlisten = await this.db.listen(channel, () => onNotify());
    return () => unlisten();
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}
