/**
 * {@link Database} on embedded PGlite (the default when no `DATABASE_URL` is set). PGlite is a
 * single connection inside this process: transactions run one at a time, so advisory locks are
 * unnecessary (and would be re-entrant anyway) — serial transactions already make sequence order
 * equal commit order.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { localSettingStatements } from './transaction-statements.js';
import { ISOLATION_LEVELS, type AtCommit, type Database, type NamedStatement, type Queryable, type Transaction, type TransactionOptions } from './database.js';

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

/**
 * A PGlite transaction. In process there is no round trip to save: the at-commit statement simply
 * runs after `fn` returns, still inside the transaction, with the same contract as on PostgreSQL.
 */
class PgliteTransaction extends PgliteQueryable implements Transaction {
  private readonly finals: Array<{ readonly sql: NamedStatement; readonly params: readonly unknown[]; rows?: unknown[] }> = [];
  private committed = false;

  override query<R extends object>(sql: string | NamedStatement, params?: readonly unknown[]): Promise<R[]> {
    if (this.finals.length > 0) return Promise.reject(new Error('no statement may follow queryAtCommit in a transaction'));
    return super.query<R>(sql, params);
  }

  queryAtCommit<R extends object>(sql: NamedStatement, params: readonly unknown[] = []): AtCommit<R> {
    const final: { sql: NamedStatement; params: readonly unknown[]; rows?: unknown[] } = { sql, params };
    this.finals.push(final);
    const isCommitted = (): boolean => this.committed;
    return {
      get rows(): R[] {
        if (!isCommitted() || final.rows === undefined) throw new Error('queryAtCommit rows are available once the transaction has committed');
        return final.rows as R[];
      },
    };
  }

  /** Runs the at-commit statements, in call order: the last thing before COMMIT. */
  async beforeCommit(): Promise<void> {
    for (const final of this.finals) final.rows = await super.query(final.sql, final.params);
  }

  /** Called once the transaction committed. */
  markCommitted(): void {
    this.committed = true;
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

  async transaction<T>(fn: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    let transaction: PgliteTransaction | undefined;
    const settings = localSettingStatements(options.localSettings);
    const result = await this.db.transaction(async (tx) => {
      await tx.query(`SET TRANSACTION ISOLATION LEVEL ${ISOLATION_LEVELS[options.isolation ?? 'REPEATABLE_READ']}`);
      for (const setting of settings) await tx.query(setting.text);
      transaction = new PgliteTransaction(tx);
      const value = await fn(transaction);
      await transaction.beforeCommit();
      return value;
    });
    transaction?.markCommitted();
    return result;
  }

  async listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
    const unlisten = await this.db.listen(channel, () => onNotify());
    return () => unlisten();
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}
