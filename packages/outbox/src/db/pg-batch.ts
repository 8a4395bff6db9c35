/**
 * Several statements in ONE extended-protocol message with ONE Sync — what node-postgres does not
 * offer (its `Query` sends one statement per Sync, its pipeline mode one Sync per statement). Sent
 * through `client.query(batch)` (a pg `Submittable`), so it takes its turn in the client's queue
 * like any query.
 *
 * Why one Sync: PostgreSQL answers an error in the extended protocol by skipping every message up
 * to the next Sync. A batch `BEGIN; lock; INSERT; COMMIT` therefore stops at the first failure —
 * a failed lock or INSERT can never be followed by a COMMIT (or by an autocommitted INSERT, as
 * separate Syncs would allow). That is what lets a transaction's opening and its first statement,
 * or its last statement and COMMIT, share one round trip (ADR 0013, round 4).
 *
 * Prepared statements: a named statement is parsed (Parse message) only the first time it is sent
 * on a connection. Which names a connection has parsed is kept where node-postgres keeps it for
 * its own named queries (`connection.parsedStatements`), so both paths agree; a name is recorded
 * only when its ParseComplete arrives — a Parse skipped after an earlier error in the batch, or
 * one that failed, leaves it unrecorded, and a Parse that succeeded stays recorded even if a later
 * statement of the batch failed (prepared statements outlive a rolled-back transaction).
 */
import pg from 'pg';
import type { NamedStatement } from './database.js';

/** One statement of a {@link PgBatch}. */
export interface BatchStep {
  /** A named statement (parsed once per connection) or SQL text (parsed every time, unnamed). */
  readonly sql: NamedStatement | string;
  readonly params?: readonly unknown[];
  /** Collect the rows (sends a Describe so their types are known). @default false */
  readonly rows?: boolean;
}

/** What one step returned: the command tag (`INSERT 0 1`, `COMMIT`, `ROLLBACK`…) and its rows. */
export interface StepResult {
  readonly command: string;
  readonly rows: Array<Record<string, unknown>>;
}

/** The parts of node-postgres' `Connection` this module drives (not all in its type definitions). */
interface WireConnection {
  readonly stream: { cork?: () => void; uncork?: () => void };
  readonly parsedStatements: Record<string, string>;
  readonly submittedNamedStatements: Record<string, string>;
  parse(query: { name: string; text: string; types: never[] }): void;
  bind(config: { statement: string; values: unknown[] }): void;
  describe(message: { type: 'P'; name: string }): void;
  execute(config: Record<string, never>): void;
  sync(): void;
  on(event: 'parseComplete', listener: () => void): unknown;
  off(event: 'parseComplete', listener: () => void): unknown;
}

interface FieldDescription {
  readonly name: string;
  readonly dataTypeID: number;
}

/** pg's own parameter encoding (Dates, arrays, Buffers, objects as JSON), as its `Query` uses it. */
const { prepareValue } = (pg as unknown as { utils: { prepareValue: (this: void, value: unknown) => unknown } }).utils;

/** Property of a batch's rejection error: the results of the steps that completed before it. */
const BATCH_STEPS_DONE = Symbol('aegis.batchStepsDone');

/** Results of the steps of a failed batch that completed before the failure (none when unknown). */
export function batchStepsDone(err: unknown): readonly StepResult[] {
  return typeof err === 'object' && err !== null ? ((err as { [BATCH_STEPS_DONE]?: StepResult[] })[BATCH_STEPS_DONE] ?? []) : [];
}

/**
 * Runs `steps` as one message on `client` (which must be idle or queue it) and resolves with one
 * result per step, or rejects with the first error (the steps after it were not executed).
 */
export function runBatch(client: pg.ClientBase, steps: readonly BatchStep[]): Promise<StepResult[]> {
  return new Promise((resolve, reject) => {
    client.query(new PgBatch(steps, resolve, reject));
  });
}

/** The `Submittable` behind {@link runBatch}; node-postgres calls the `handle*` methods. */
export class PgBatch implements pg.Submittable {
  private readonly results: StepResult[] = [];
  private fields: readonly FieldDescription[] | undefined;
  private parsers: Array<(value: string) => unknown> = [];
  private rows: Array<Record<string, unknown>> = [];
  /** The Parse messages sent, in order (name '' for unnamed), matched to ParseCompletes. */
  private readonly parses: Array<{ readonly name: string; readonly text: string }> = [];
  private parsedCount = 0;
  private connection: WireConnection | undefined;
  private settled = false;
  private readonly onParseComplete = (): void => {
    const parsed = this.parses[this.parsedCount++];
    if (parsed !== undefined && parsed.name !== '' && this.connection !== undefined) this.connection.parsedStatements[parsed.name] = parsed.text;
  };

  constructor(
    private readonly steps: readonly BatchStep[],
    private readonly resolve: (results: StepResult[]) => void,
    private readonly reject: (err: Error) => void,
  ) {}

  /** Writes every message, then one Sync, in one socket write. Returns an Error to refuse. */
  submit(rawConnection: pg.Connection): Error | null {
    const connection = rawConnection as unknown as WireConnection;
    // Encode every parameter first: a value pg cannot encode must fail the batch before any
    // byte is written, not halfway through it.
    let values: unknown[][];
    try {
      values = this.steps.map((s) => (s.params ?? []).map((v) => prepareValue(v)));
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
    const toParse = new Set<string>();
    for (const step of this.steps) {
      if (typeof step.sql === 'string') continue;
      const known = connection.parsedStatements[step.sql.name] ?? connection.submittedNamedStatements[step.sql.name];
      if (known !== undefined && known !== step.sql.text) return new Error(`prepared statement '${step.sql.name}' was used for a different statement`);
      if (known === undefined) toParse.add(step.sql.name);
    }
    this.connection = connection;
    // Listen only while this batch parses a named statement: the steady state adds no listener.
    if (toParse.size > 0) connection.on('parseComplete', this.onParseComplete);
    connection.stream.cork?.();
    try {
      for (const [i, step] of this.steps.entries()) {
        const [name, text] = typeof step.sql === 'string' ? ['', step.sql] : [step.sql.name, step.sql.text];
        if (name === '' || toParse.delete(name)) {
          connection.parse({ name, text, types: [] });
          this.parses.push({ name, text });
        }
        connection.bind({ statement: name, values: values[i] ?? [] });
        if (step.rows === true) connection.describe({ type: 'P', name: '' });
        connection.execute({});
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }

  handleRowDescription(msg: { fields: FieldDescription[] }): void {
    this.fields = msg.fields;
    this.parsers = msg.fields.map((f) => pg.types.getTypeParser(f.dataTypeID, 'text') as (value: string) => unknown);
  }

  handleDataRow(msg: { fields: Array<string | null> }): void {
    const fields = this.fields;
    // A step sent without Describe (its rows are not wanted) has no field descriptions.
    if (fields === undefined) return;
    const row: Record<string, unknown> = {};
    for (const [i, raw] of msg.fields.entries()) row[fields[i]?.name ?? String(i)] = raw === null ? null : this.parsers[i]!(raw);
    this.rows.push(row);
  }

  handleCommandComplete(msg: { text: string }): void {
    this.endStep(msg.text);
  }

  handleEmptyQuery(): void {
    this.endStep('');
  }

  handleError(err: Error): void {
    // Which statements had completed before the failing one: a caller that put statements after
    // its COMMIT must know whether that COMMIT ran.
    (err as Error & { [BATCH_STEPS_DONE]?: StepResult[] })[BATCH_STEPS_DONE] = this.results;
    this.settle(() => this.reject(err));
  }

  handleReadyForQuery(): void {
    if (this.results.length !== this.steps.length) {
      this.settle(() => this.reject(new Error(`batch ended after ${this.results.length} of ${this.steps.length} statements`)));
      return;
    }
    this.settle(() => this.resolve(this.results));
  }

  // Never sent by our statements (no row limit, no COPY); present because pg calls them.
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}

  private endStep(command: string): void {
    this.results.push({ command, rows: this.rows });
    this.rows = [];
    this.fields = undefined;
    this.parsers = [];
  }

  private settle(finish: () => void): void {
    if (this.settled) return;
    this.settled = true;
    this.connection?.off('parseComplete', this.onParseComplete);
    finish();
  }
}
