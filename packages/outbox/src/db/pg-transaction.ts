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
import type { AtCommit, NamedStatement, Transaction } from './database.js';
import { runBatch, type BatchStep } from './pg-batch.js';
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
}

export class PgTransaction implements Transaction {
  private opened = false;
  /** Statements to send with COMMIT, in call order. */
  private readonly finals: Array<{ readonly step: BatchStep; readonly rows: AtCommitRows<unknown> }> = [];
  private readonly plain: PgQueryable;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly shape: TransactionShape,
  ) {
    this.plain = new PgQueryable(client);
  }

  /** True once a message was sent: from then on the transaction must be ended. */
  get started(): boolean {
    return this.opened;
  }

  async query<R extends object>(sql: string | NamedStatement, params: readonly unknown[] = []): Promise<R[]> {
    if (this.finals.length > 0) throw new Error('no statement may follow queryAtCommit in a transaction');
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
    const results = await runBatch(this.client, [...steps, ...closing.steps]);
    const at = (i: number) => results[steps.length + i];
    // COMMIT of an aborted transaction rolls back without an error; its tag tells.
    if (at(closing.commitIndex)?.command !== 'COMMIT') throw new Error('transaction rolled back at COMMIT: an earlier statement of it had failed');
    for (const [i, f] of this.finals.entries()) f.rows.set(results[firstFinal + i]?.rows ?? []);
    return { sent: true, wakeDue: closing.wakeIndex !== undefined && at(closing.wakeIndex)?.rows[0]?.wake === 'due' };
  }
}
