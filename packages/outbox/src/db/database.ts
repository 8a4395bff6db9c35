/**
 * The one storage seam of the outbox: the same SQL runs on PostgreSQL (`pg`) and on embedded
 * PGlite. Queries receive a {@link Queryable}; only `pg-database.ts` and `pglite-database.ts`
 * import a client.
 */

/**
 * A statement PostgreSQL parses and plans once per connection and then only executes (a named
 * prepared statement). For the fixed SQL of hot paths; `name` must be unique per text.
 */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
}

/** Something that runs one SQL statement with positional parameters. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string | NamedStatement, params?: readonly unknown[]): Promise<R[]>;
}

/** Transaction isolation levels accepted by {@link Database.transaction}. */
export const ISOLATION_LEVELS = {
  REPEATABLE_READ: 'REPEATABLE READ',
  READ_COMMITTED: 'READ COMMITTED',
  SERIALIZABLE: 'SERIALIZABLE',
} as const;
export type IsolationLevel = keyof typeof ISOLATION_LEVELS;

export interface TransactionOptions {
  /** @default 'REPEATABLE_READ' */
  readonly isolation?: IsolationLevel;
  /**
   * Aggregate keys to lock *before* the transaction starts, held until it ends. Taking the lock
   * before BEGIN means a REPEATABLE READ snapshot already sees the previous writer's commit, and
   * it makes sequence order equal commit order per aggregate (see docs/adr/0010).
   */
  readonly lockKeys?: readonly string[];
}

/** A database the outbox can use: autocommit queries, transactions and LISTEN. */
export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Calls `onNotify` for each notification on `channel`, and once after every reconnection
   * (notifications sent while disconnected are lost, so the caller should look for work).
   * Resolves with a function that stops listening.
   */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
