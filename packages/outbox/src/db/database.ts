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

/**
 * The rows of a statement run by {@link Transaction.queryAtCommit}, readable once the
 * transaction has committed (reading them earlier throws).
 */
export interface AtCommit<R> {
  readonly rows: R[];
}

/**
 * What a transaction's function receives: a {@link Queryable} whose statements all run in the
 * transaction, plus a way to make the last statement travel with COMMIT.
 */
export interface Transaction extends Queryable {
  /**
   * Runs `sql` at the END of the transaction, sent together with COMMIT where the database can
   * (PostgreSQL: one extended-protocol message ending in one Sync, so if the statement fails
   * COMMIT is never executed and nothing is written). Several calls run in call order. The rows
   * are available from the returned object once `transaction()` has resolved; if a statement or
   * COMMIT fails, `transaction()` rejects with that error. No ordinary statement (`query`) may
   * follow the first call. A transaction made only of these is one round trip, opening included.
   * @throws Error when `query` is called after it.
   */
  queryAtCommit<R extends object = Record<string, unknown>>(sql: NamedStatement, params?: readonly unknown[]): AtCommit<R>;
  /**
   * PostgreSQL only (absent elsewhere): in the message that commits this transaction, right after
   * COMMIT, open the next one (same options) and run `first` (no parameters) in it — one round
   * trip for the end of one transaction and the start of the next. Pass the handle as
   * {@link TransactionOptions.continueFrom} to the next `transaction()`: its first `query(first)`
   * returns those rows without a round trip. If COMMIT fails nothing after it runs (one Sync);
   * if the next transaction's opening or `first` fails, this transaction is still committed and
   * the handle is empty. A handle that is not used must be released (it holds a connection, an
   * open transaction and whatever `first` locked). Not with `lockKeys`.
   * @throws Error with `lockKeys`, or when called twice.
   */
  prefetchNext?(first: NamedStatement): PrefetchedTransaction;
}

/**
 * A transaction opened, and its first statement run, by the message that committed the previous
 * one ({@link Transaction.prefetchNext}). Empty when that did not happen (COMMIT failed, the
 * opening or the statement failed, the previous transaction rolled back).
 */
export interface PrefetchedTransaction {
  /** Ends the transaction (ROLLBACK) and frees its connection unless a `transaction()` took it. Idempotent. */
  release(): Promise<void>;
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
  /**
   * If the transaction inserts outbox rows, wake the relays after it commits (one NOTIFY on
   * {@link OUTBOX_CHANNEL} shared with other commits of the moment, in-process listeners called
   * directly) instead of by the outbox trigger's NOTIFY inside it. PostgreSQL serializes the
   * commits of transactions that NOTIFY, so notifying writers cannot share a WAL flush (ADR
   * 0013, round 3). A crash between the commit and the wake-up only delays the rows until the
   * relays' poll or the next wake-up; they are committed and PENDING. An implementation that
   * has no such cost (PGlite: one connection) may ignore it and let the trigger notify.
   * @default false
   */
  readonly wakeRelaysAfterCommit?: boolean;
  /**
   * Transaction-local settings (`SET LOCAL name = 'value'`), sent in the opening message before
   * the first statement, e.g. the relay's claim plan (`enable_sort: 'off'`, ADR 0013). For
   * constants of the code only: names are `[a-z_][a-z0-9_.]*`, values `[A-Za-z0-9_.-]+`.
   * @throws RangeError (from `transaction()`) for a name or value outside those forms.
   * @default {}
   */
  readonly localSettings?: Readonly<Record<string, string>>;
  /**
   * Continue the transaction a previous one prefetched ({@link Transaction.prefetchNext}), on its
   * connection, instead of opening a new one; an empty handle means a normal transaction. The
   * options must be those of the transaction that prefetched it.
   */
  readonly continueFrom?: PrefetchedTransaction;
}

/** Channel relays LISTEN on and the outbox triggers NOTIFY on (migrations 000001, 000002). */
export const OUTBOX_CHANNEL = 'aegis_outbox';

/**
 * Transaction-local setting: 'after_commit' tells the outbox trigger not to NOTIFY because the
 * transaction wakes the relays after it commits; the trigger sets it to 'due' when it fires
 * (migration 000002, {@link TransactionOptions.wakeRelaysAfterCommit}).
 */
export const WAKE_AFTER_COMMIT_SETTING = 'aegis.outbox_wake';

/** A database the outbox can use: autocommit queries, transactions and LISTEN. */
export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /**
   * Runs `fn` in one transaction and commits if it resolves, rolls back if it throws. On
   * PostgreSQL nothing is sent before `fn`'s first statement: the opening (aggregate locks,
   * BEGIN, SET LOCAL) travels in the same message as that statement, so a transaction whose
   * function runs no statement sends nothing and takes no lock (ADR 0013, round 4).
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Calls `onNotify` for each notification on `channel`, and once after every reconnection
   * (notifications sent while disconnected are lost, so the caller should look for work).
   * Resolves with a function that stops listening.
   */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
