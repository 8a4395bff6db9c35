/** {@link Database} on PostgreSQL through a `pg` pool, with a self-healing LISTEN connection. */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import {
  ISOLATION_LEVELS,
  OUTBOX_CHANNEL,
  WAKE_AFTER_COMMIT_SETTING,
  type Database,
  type NamedStatement,
  type Queryable,
  type TransactionOptions,
} from './database.js';
import { advisoryLockStatements } from './aggregate-lock-key.js';
import { CoalescedWakeup } from './coalesced-wakeup.js';

export interface PgDatabaseOptions {
  readonly connectionString: string;
  /** @default 10 */
  readonly poolSize?: number;
  /** Shown in `pg_stat_activity.application_name`. @default 'aegis-outbox' */
  readonly applicationName?: string;
  readonly logger?: Logger;
}

/** Time between LISTEN reconnection attempts. */
const LISTEN_RECONNECT_MS = 500;

class PgQueryable implements Queryable {
  constructor(private readonly client: pg.Pool | pg.PoolClient) {}
  async query<R extends object>(sql: string | NamedStatement, params: readonly unknown[] = []): Promise<R[]> {
    const result =
      typeof sql === 'string'
        ? await this.client.query<R>(sql, params as unknown[])
        : await this.client.query<R>({ name: sql.name, text: sql.text, values: params as unknown[] });
    // Several statements without parameters (simple protocol) give one result each: like PGlite,
    // the last one's rows are the answer.
    const results = result as pg.QueryResult<R> | Array<pg.QueryResult<R>>;
    return Array.isArray(results) ? (results.at(-1)?.rows ?? []) : results.rows;
  }
}

export class PgDatabase implements Database {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly direct: PgQueryable;
  private readonly listeners = new Set<() => Promise<void>>();
  /** This process's {@link OUTBOX_CHANNEL} listeners, woken directly after our own commits. */
  private readonly localOutboxListeners = new Set<() => void>();
  /**
   * Payload of our post-commit NOTIFYs: our listeners were already woken directly, so they skip
   * the copy the server sends back.
   */
  private readonly wakeToken = randomUUID();
  private readonly wakeup: CoalescedWakeup;

  constructor(private readonly options: PgDatabaseOptions) {
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      application_name: options.applicationName ?? 'aegis-outbox',
    });
    // An idle client killed by the server (restart, pg_terminate_backend) is dropped by the pool;
    // without this handler the 'error' event would crash the process.
    this.pool.on('error', (err) => options.logger?.warn({ err }, 'idle PostgreSQL connection lost'));
    // pg-pool drops its idle 'error' listener when it hands a client out, and the caller adds its
    // own only in a later microtask. A backend terminated as it became ready sends ReadyForQuery
    // and its FATAL in one chunk: the parser hands the client out on the first and emits the
    // second in the same synchronous loop, with no listener — an uncaught exception. So every
    // pool client keeps a listener for life; the lost connection shows on its next query.
    this.pool.on('connect', (client) => {
      client.on('error', (err) => options.logger?.debug({ err }, 'PostgreSQL connection lost'));
    });
    this.direct = new PgQueryable(this.pool);
    this.wakeup = new CoalescedWakeup(
      async () => {
        for (const wake of this.localOutboxListeners) wake();
        // Outside any transaction of ours, on whichever pool connection is free: this NOTIFY's
        // own transaction has no xid, so it holds PostgreSQL's notify lock without a WAL flush.
        await this.pool.query(`NOTIFY ${OUTBOX_CHANNEL}, '${this.wakeToken}'`);
      },
      (err) => options.logger?.warn({ err }, 'post-commit NOTIFY failed; relays find the rows by their poll or the next wake-up'),
    );
  }

  query<R extends object>(sql: string | NamedStatement, params?: readonly unknown[]): Promise<R[]> {
    return this.direct.query<R>(sql, params);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const client = await this.pool.connect();
    const locks = advisoryLockStatements(options.lockKeys ?? []);
    const wakeAfterCommit = options.wakeRelaysAfterCommit === true;
    // SET LOCAL takes no snapshot, so a REPEATABLE READ snapshot is still fixed by the first
    // real statement (after the locks); it tells the outbox trigger to leave the NOTIFY to us
    // and only note that one is due (000002).
    const begin =
      `BEGIN ISOLATION LEVEL ${ISOLATION_LEVELS[options.isolation ?? 'REPEATABLE_READ']}` +
      (wakeAfterCommit ? `; SET LOCAL ${WAKE_AFTER_COMMIT_SETTING} = 'after_commit'` : '');
    // With locks, the transaction's ends also release them, in the same round trip.
    const unlock = locks === '' ? '' : '; SELECT pg_advisory_unlock_all()';
    let broken: Error | undefined;
    // True once no transaction is open and no lock of ours is held on this connection.
    let ended = false;
    let commitSent = false;
    // A checked-out client whose connection dies between statements (e.g. while the relay is
    // publishing) emits 'error'; unhandled, that would crash the process. The next statement
    // fails anyway, and the client is then destroyed instead of returned to the pool.
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    try {
      // Locks first (session-level), then BEGIN: the snapshot is taken after the lock is held.
      // One round trip (simple protocol, several statements; the lock keys are integers we
      // computed, never text from a caller): the locks are taken in a short READ COMMITTED
      // transaction of their own, which commits (no xid, no WAL) before `BEGIN ISOLATION LEVEL`
      // opens the real one with no snapshot yet. `SELECT lock; BEGIN …` alone would not do: the
      // SELECT opens an implicit transaction whose snapshot predates the lock and BEGIN could no
      // longer set its isolation level. Session locks outlive the transaction they were taken in.
      await client.query(locks === '' ? begin : `BEGIN ISOLATION LEVEL READ COMMITTED; ${locks} COMMIT; ${begin}`);
      const result = await fn(new PgQueryable(client));
      // COMMIT and unlock in one round trip; if COMMIT fails the unlock is skipped (the rest of
      // the message is) and the catch below releases the locks. With a post-commit wake-up, the
      // same message first reads whether the outbox trigger saw rows to announce (000002).
      commitSent = true;
      if (wakeAfterCommit) {
        const results = (await client.query(`SELECT current_setting('${WAKE_AFTER_COMMIT_SETTING}', true) AS wake; COMMIT${unlock}`)) as unknown as Array<pg.QueryResult<{ wake: string | null }>>;
        ended = true;
        if (results[0]?.rows[0]?.wake === 'due') this.wakeup.request();
      } else {
        await client.query(`COMMIT${unlock}`);
        ended = true;
      }
      return result;
    } catch (err) {
      // Whatever failed — the lock or BEGIN message, a statement, the handler, COMMIT — end any
      // transaction (ROLLBACK outside one only warns) and release the locks in one round trip,
      // so the connection goes back to the pool idle and holding nothing.
      await client.query(`ROLLBACK${unlock}`).then(
        () => {
          ended = true;
        },
        (rollbackErr: unknown) => {
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        },
      );
      // A lost connection must not go back to the pool.
      if (broken === undefined && isConnectionError(err)) broken = err as Error;
      // The connection died with COMMIT in flight: it may have committed rows nobody announced
      // (a spare wake-up costs the relays one claim).
      if (wakeAfterCommit && commitSent && isConnectionError(err)) this.wakeup.request();
      throw err;
    } finally {
      client.off('error', onError);
      // Never return a connection that may still be in a transaction or hold a session lock.
      client.release(broken ?? (ended ? false : new Error('transaction did not end cleanly')));
    }
  }

  async listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
    let stopped = false;
    let client: pg.Client | undefined;
    let timer: NodeJS.Timeout | undefined;
    const log = this.options.logger;

    const connect = async (): Promise<void> => {
      const c = new pg.Client({
        connectionString: this.options.connectionString,
        application_name: `${this.options.applicationName ?? 'aegis-outbox'}:listen`,
      });
      c.on('notification', (msg) => {
        if (msg.channel === channel && !(channel === OUTBOX_CHANNEL && msg.payload === this.wakeToken)) onNotify();
      });
      c.on('error', (err) => {
        log?.warn({ err }, 'LISTEN connection lost; reconnecting');
        scheduleReconnect(c);
      });
      c.on('end', () => scheduleReconnect(c));
      await c.connect();
      await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      client = c;
    };
    const scheduleReconnect = (dead: pg.Client): void => {
      if (stopped || client !== dead || timer !== undefined) return;
      client = undefined;
      dead.removeAllListeners('end');
      void dead.end().catch(() => undefined);
      const attempt = (): void => {
        timer = setTimeout(() => {
          timer = undefined;
          if (stopped) return;
          connect().then(
            () => {
              log?.info('LISTEN connection restored');
              onNotify(); // notifications sent while we were away are lost: look for work now
            },
            () => attempt(),
          );
        }, LISTEN_RECONNECT_MS);
        timer.unref();
      };
      attempt();
    };

    await connect();
    const wakeDirectly = (): void => onNotify();
    if (channel === OUTBOX_CHANNEL) this.localOutboxListeners.add(wakeDirectly);
    const stop = async (): Promise<void> => {
      stopped = true;
      this.localOutboxListeners.delete(wakeDirectly);
      if (timer !== undefined) clearTimeout(timer);
      const c = client;
      client = undefined;
      if (c !== undefined) {
        c.removeAllListeners('end');
        await c.end().catch(() => undefined);
      }
      this.listeners.delete(stop);
    };
    this.listeners.add(stop);
    return stop;
  }

  async close(): Promise<void> {
    await this.wakeup.idle();
    for (const stop of [...this.listeners]) await stop();
    await this.pool.end();
  }
}

/** True for errors that mean the connection itself is gone (not a failed statement). */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03')) return true;
  return /Connection terminated|ECONNRESET|ECONNREFUSED|EPIPE|not queryable|Client has encountered a connection error/i.test(err.message);
}
