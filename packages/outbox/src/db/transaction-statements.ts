/**
 * The statements that open and end a `PgDatabase` transaction, as extended-protocol batch steps
 * (named: parsed once per connection) and, for a first statement that must go through the simple
 * protocol, as SQL text. Both forms say the same thing (ADR 0010, ADR 0013 rounds 2–4):
 *
 * - with aggregate locks: `BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_lock(…) …;
 *   COMMIT` first — session locks taken in a short transaction of their own that commits with no
 *   xid (no WAL) — and only then `BEGIN ISOLATION LEVEL <level>`, whose snapshot is fixed by the
 *   first real statement, after the locks are held;
 * - `SET LOCAL aegis.outbox_wake = 'after_commit'` when the relays are woken after COMMIT, and the
 *   caller's transaction-local settings (a SET takes no snapshot);
 * - at the end: the wake-up flag read, COMMIT, and the unlock, in that order, so a failed COMMIT
 *   skips the unlock (the rollback path releases the locks).
 */
import { ISOLATION_LEVELS, WAKE_AFTER_COMMIT_SETTING, type IsolationLevel, type NamedStatement } from './database.js';
import { AGGREGATE_LOCK_NAMESPACE, aggregateLockHash, advisoryLockStatements } from './aggregate-lock-key.js';
import type { BatchStep } from './pg-batch.js';

const named = (name: string, text: string): NamedStatement => ({ name, text });

const BEGIN: Record<IsolationLevel, NamedStatement> = {
  REPEATABLE_READ: named('aegis_tx_begin_rr_v1', `BEGIN ISOLATION LEVEL ${ISOLATION_LEVELS.REPEATABLE_READ}`),
  READ_COMMITTED: named('aegis_tx_begin_rc_v1', `BEGIN ISOLATION LEVEL ${ISOLATION_LEVELS.READ_COMMITTED}`),
  SERIALIZABLE: named('aegis_tx_begin_ser_v1', `BEGIN ISOLATION LEVEL ${ISOLATION_LEVELS.SERIALIZABLE}`),
};
const COMMIT = named('aegis_tx_commit_v1', 'COMMIT');
const LOCK = named('aegis_tx_advisory_lock_v1', `SELECT pg_advisory_lock(${AGGREGATE_LOCK_NAMESPACE}, $1::integer)`);
const UNLOCK_ALL = named('aegis_tx_advisory_unlock_all_v1', 'SELECT pg_advisory_unlock_all()');
const WAKE_AFTER_COMMIT = named('aegis_tx_wake_after_commit_v1', `SET LOCAL ${WAKE_AFTER_COMMIT_SETTING} = 'after_commit'`);
/** Step result column: 'due' when the outbox trigger saw a row to announce (migration 000002). */
const WAKE_DUE = named('aegis_tx_wake_due_v1', `SELECT current_setting('${WAKE_AFTER_COMMIT_SETTING}', true) AS wake`);

/** What a transaction needs at its two ends. */
export interface TransactionShape {
  readonly isolation: IsolationLevel;
  readonly lockKeys: readonly string[];
  readonly wakeAfterCommit: boolean;
  /** `SET LOCAL` statements after BEGIN, from {@link localSettingStatements}. */
  readonly localSettings: readonly NamedStatement[];
}

const SETTING_NAME = /^[a-z_][a-z0-9_.]*$/;
const SETTING_VALUE = /^[A-Za-z0-9_.-]+$/;
const settingStatements = new Map<string, NamedStatement>();

/**
 * One named `SET LOCAL` statement per setting (parsed once per connection like the rest of the
 * opening). Names and values are code constants, checked against a strict form since they are
 * written into SQL text.
 * @throws RangeError for a name or value outside that form.
 */
export function localSettingStatements(settings: Readonly<Record<string, string>> = {}): NamedStatement[] {
  return Object.entries(settings).map(([name, value]) => {
    if (!SETTING_NAME.test(name) || !SETTING_VALUE.test(value)) throw new RangeError(`invalid transaction-local setting ${JSON.stringify(name)} = ${JSON.stringify(value)}`);
    const text = `SET LOCAL ${name} = '${value}'`;
    let statement = settingStatements.get(text);
    if (statement === undefined) {
      statement = named(`aegis_tx_set_${settingStatements.size}_v1`, text);
      settingStatements.set(text, statement);
    }
    return statement;
  });
}

/** Lock hashes in a fixed order, so two writers locking the same keys never deadlock. */
function lockHashes(keys: readonly string[]): number[] {
  return [...new Set(keys.map(aggregateLockHash))].sort((a, b) => a - b);
}

/** The opening as batch steps, to send in front of the first statement. */
export function openingSteps(shape: TransactionShape): BatchStep[] {
  const hashes = lockHashes(shape.lockKeys);
  const steps: BatchStep[] = [];
  if (hashes.length > 0) {
    steps.push({ sql: BEGIN.READ_COMMITTED });
    for (const h of hashes) steps.push({ sql: LOCK, params: [h] });
    steps.push({ sql: COMMIT });
  }
  steps.push({ sql: BEGIN[shape.isolation] });
  if (shape.wakeAfterCommit) steps.push({ sql: WAKE_AFTER_COMMIT });
  for (const setting of shape.localSettings) steps.push({ sql: setting });
  return steps;
}

/**
 * The opening as simple-protocol SQL, to prefix a first statement sent as text without
 * parameters (possibly several statements: only the simple protocol accepts those). A simple
 * message also stops at its first failing statement. The lock keys are integers we computed,
 * never text from a caller.
 */
export function openingText(shape: TransactionShape): string {
  const locks = advisoryLockStatements(shape.lockKeys);
  const begin =
    `BEGIN ISOLATION LEVEL ${ISOLATION_LEVELS[shape.isolation]};` +
    (shape.wakeAfterCommit ? ` SET LOCAL ${WAKE_AFTER_COMMIT_SETTING} = 'after_commit';` : '') +
    shape.localSettings.map((s) => ` ${s.text};`).join('');
  return locks === '' ? begin : `BEGIN ISOLATION LEVEL READ COMMITTED; ${locks} COMMIT; ${begin}`;
}

/** Where the end's results are, relative to its first step. */
export interface ClosingSteps {
  readonly steps: BatchStep[];
  /** Index of the wake-up flag read, if any. */
  readonly wakeIndex: number | undefined;
  readonly commitIndex: number;
}

/** The end as batch steps: [wake-up flag read], COMMIT, [unlock]. */
export function closingSteps(shape: TransactionShape): ClosingSteps {
  const steps: BatchStep[] = [];
  const wakeIndex = shape.wakeAfterCommit ? steps.push({ sql: WAKE_DUE, rows: true }) - 1 : undefined;
  const commitIndex = steps.push({ sql: COMMIT }) - 1;
  if (shape.lockKeys.length > 0) steps.push({ sql: UNLOCK_ALL });
  return { steps, wakeIndex, commitIndex };
}

/** The rollback path: one simple message, ROLLBACK outside a transaction only warns. */
export function rollbackText(shape: TransactionShape): string {
  return shape.lockKeys.length > 0 ? 'ROLLBACK; SELECT pg_advisory_unlock_all()' : 'ROLLBACK';
}
