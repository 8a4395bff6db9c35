/**
 * A PostgreSQL transaction opened, and its first statement run, by the message that committed
 * the previous one ({@link Transaction.prefetchNext}, ADR 0013 round 5): one round trip for the
 * end of one transaction and the start of the next. It owns a pool connection from the moment
 * the committing `transaction()` hands it over until a `transaction()` takes it
 * ({@link TransactionOptions.continueFrom}) or it is released.
 */
import type pg from 'pg';
import type { NamedStatement, PrefetchedTransaction } from './database.js';

/** What a continued transaction starts with: its connection and its first statement's rows. */
export interface Continuation {
  readonly client: pg.PoolClient;
  readonly first: NamedStatement;
  readonly rows: Array<Record<string, unknown>>;
}

export class PgPrefetched implements PrefetchedTransaction {
  private ready: Continuation | undefined;
  /** Set once taken or released: a late fill is refused (its transaction is rolled back). */
  private closed = false;

  constructor(readonly first: NamedStatement) {}

  /** Called once the committing message ran `first`; false when nobody will take it any more. */
  fill(continuation: Continuation): boolean {
    if (this.closed) return false;
    this.ready = continuation;
    return true;
  }

  /** Hands the open transaction over; undefined when it is empty, taken or released. */
  take(): Continuation | undefined {
    const c = this.ready;
    this.ready = undefined;
    this.closed = true;
    return c;
  }

  async release(): Promise<void> {
    const c = this.take();
    if (c === undefined) return;
    // Ends the transaction (and the locks `first` took) before the connection goes back idle;
    // a connection whose ROLLBACK failed is destroyed, never pooled.
    await c.client.query('ROLLBACK').then(
      () => c.client.release(),
      (err: unknown) => c.client.release(err instanceof Error ? err : new Error(String(err))),
    );
  }
}
