/**
 * One PostgreSQL transaction on one pool connection, sent in as few round trips as the protocol
 * allows (ADR 0013, round 4):
 *
 * - nothing is sent until the first statement; the opening (locks, BEGIN, SET LOCAL) travels in
 *   the same message as that statement — an extended-protocol batch with one Sync for a named
 *   statement or SQL with parameters, a simple-protocol message for SQL text without parameters
 *   (which may hold several statements). Either way the message stops at its first error, so a
 *   failed lock never lets the statement run outside the transaction;
 * - the statements given to {@link PgTransaction.queryAtCommit} travel with COMMIT (and the
 *   wake-up flag read and the unlock) in one batch, so a failure of one skips COMMIT.
 *
 * A `submitCommand` is thus two round trips: [locks, BEGIN, SET LOCAL, INSERT command] before the
 * handler runs, [INSERT events + outbox rows + status, wake flag, COMMIT, unlock] after.
 */
import type pg from 'pg';
import type { AtCommit, NamedStatement, PrefetchedTransaction, Transaction } from './database.js';
import { batchStepsDone, runBatch, type BatchStep, type StepResult } from './pg-batch.js';
import { PgPrefetched, type Continuation } from './pg-prefetched.js';
import { PgQueryable, lastRows } from './pg-queryable.js';
import { closingSteps, openingSteps, openingText, type TransactionShape } from './transaction-statements.js';

/** Rows of an at-commit statement, set once COMMIT succeeded. */
class AtCommitRows<R> implements AtCommit<R> {
  private committed: R[] | undefined;
  get rows(): R[] {
    if (this.committed === undefined) throw new Error('queryAtCommit rows are available once the transaction has committed');
    return this.committed;
  }
  set(rows: R[]): void {
    this.committed = rows;
  }
}

/** What {@link PgTransaction.commit} did. */
export interface CommitOutcome {
  /** False when nothing had been sent: there was nothing to commit (and no lock was taken). */
  readonly sent: boolean;
  /** True when the outbox trigger noted rows to announce (`wakeAfterCommit` only). */
  readonly wakeDue: boolean;
  /**
   * Committed with a prefetch: the next transaction may be open on the connection. `nextRows` is
   * set when its first statement ran; otherwise it failed and the caller must end it.
   */
  readonly nextOpen?: boolean;
  readonly nextRows?: Array<Record<string, unknown>>;
}

export class PgTransaction implements Transaction {
  private opened = false;
  /** Statements to send with COMMIT, in call order. */
  private readonly finals: Array<{ readonly step: BatchStep; readonly rows: AtCommitRows<unknown> }> = [];
  private readonly plain: PgQueryable;

  /** Requested by {@link prefetchNext}. */
  prefetched: PgPrefetched | undefined;
  /** A continued transaction's first statement, already run by the previous one's message. */
  private firstRun: Continuation | undefined;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly shape: TransactionShape,
    continued?: Continuation,
  ) {
    this.plain = new PgQueryable(client);
    if (continued !== undefined) {
      this.opened = true;
      this.firstRun = continued;
    }
  }

  /** True once a message was sent: from then on the transaction must be ended. */
  get started(): boolean {
    return this.opened;
  }

  async query<R extends object>(sql: string | NamedStatement, params: readonly unknown[] = []): Promise<R[]> {
    if (this.finals.length > 0) throw new Error('no statement may follow queryAtCommit in a transaction');
    const first = this.firstRun;
    this.firstRun = undefined;
    if (first !== undefined && typeof sql !== 'string' && sql.name === first.first.name && params.length === 0) return first.rows as R[];
    if (this.opened) return this.plain.query<R>(sql, params);
    // Set before anything is awaited: a second statement issued without awaiting the first
    // queues behind this message in the client instead of opening the transaction again.
    this.opened = true;
    if (typeof sql === 'string' && params.length === 0) {
      return lastRows(await this.client.query<R>(`${openingText(this.shape)} ${sql}`));
    }
    const results = await runBatch(this.client, [...openingSteps(this.shape), { sql, params, rows: true }]);
    return (results.at(-1)?.rows ?? []) as R[];
  }

  queryAtCommit<R extends object>(sql: NamedStatement, params: readonly unknown[] = []): AtCommit<R> {
    const rows = new AtCommitRows<R>();
    this.finals.push({ step: { sql, params, rows: true }, rows });
    return rows;
  }

  prefetchNext(first: NamedStatement): PrefetchedTransaction {
    if (this.shape.lockKeys.length > 0) throw new Error('prefetchNext is not available with lockKeys');
    if (this.prefetched !== undefined) throw new Error('prefetchNext was already called in this transaction');
    this.prefetched = new PgPrefetched(first);
    return this.prefetched;
  }

  /**
   * Sends the end — [opening if nothing was sent,] [the at-commit statements,] [wake flag,]
   * COMMIT, [unlock] — as one batch.
   * @throws the failing statement's error (nothing was committed), or an Error when COMMIT
   *   answered ROLLBACK (an earlier statement had failed and the transaction was aborted).
   */
  async commit(): Promise<CommitOutcome> {
    const steps: BatchStep[] = [];
    if (!this.opened) {
      if (this.finals.length === 0) return { sent: false, wakeDue: false };
      steps.push(...openingSteps(this.shape));
      this.opened = true;
    }
    const firstFinal = steps.length;
    for (const f of this.finals) steps.push(f.step);
    const closing = closingSteps(this.shape);
    const commitAt = steps.length + closing.commitIndex;
    const next = this.prefetched === undefined ? [] : [...openingSteps(this.shape), { sql: this.prefetched.first, rows: true }];
    let results: readonly StepResult[];
    let nextFailed = false;
    try {
      results = await runBatch(this.client, [...steps, ...closing.steps, ...next]);
    } catch (err) {
      // A failure after a successful COMMIT is the next transaction's: this one is committed.
      results = batchStepsDone(err);
      if (next.length === 0 || results[commitAt]?.command !== 'COMMIT') throw err;
      nextFailed = true;
    }
    const at = (i: number) => results[steps.length + i];
    // COMMIT of an aborted transaction rolls back without an error; its tag tells.
    if (at(closing.commitIndex)?.command !== 'COMMIT') throw new Error('transaction rolled back at COMMIT: an earlier statement of it had failed');
    for (const [i, f] of this.finals.entries()) f.rows.set(results[firstFinal + i]?.rows ?? []);
    const wakeDue = closing.wakeIndex !== undefined && at(closing.wakeIndex)?.rows[0]?.wake === 'due';
    if (next.length === 0) return { sent: true, wakeDue };
    return { sent: true, wakeDue, nextOpen: true, nextRows: nextFailed ? undefined : (results.at(-1)?.rows ?? []) };
  }
}
