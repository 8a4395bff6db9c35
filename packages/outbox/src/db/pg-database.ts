/** {@link Database} on PostgreSQL through a `pg` pool, with a self-healing LISTEN connection. */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import { OUTBOX_CHANNEL, type Database, type NamedStatement, type Transaction, type TransactionOptions } from './database.js';
import { CoalescedWakeup } from './coalesced-wakeup.js';
import { PgQueryable } from './pg-queryable.js';
import { PgTransaction } from './pg-transaction.js';
import { PgPrefetched } from './pg-prefetched.js';
import { localSettingStatements, rollbackText } from './transaction-statements.js';

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

  async transaction<T>(fn: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    // Checked before a connection is taken: an invalid setting throws here.
    const localSettings = localSettingStatements(options.localSettings);
    // A transaction the previous one opened in its COMMIT message (prefetchNext) continues on
    // that connection; an empty handle means a normal transaction.
    const continued = options.continueFrom instanceof PgPrefetched ? options.continueFrom.take() : undefined;
    const client = continued?.client ?? (await this.pool.connect());
    const shape = {
      isolation: options.isolation ?? 'REPEATABLE_READ',
      lockKeys: options.lockKeys ?? [],
      wakeAfterCommit: options.wakeRelaysAfterCommit === true,
      localSettings,
    } as const;
    // Nothing is sent before fn's first statement; the opening and that statement share one
    // message, as do the last statement and COMMIT (pg-transaction.ts, ADR 0013 round 4).
    const tx = new PgTransaction(client, shape, continued);
    let broken: Error | undefined;
    // True once no transaction is open and no lock of ours is held on this connection.
    let ended = false;
    let commitSent = false;
    // True once the connection belongs to the prefetched next transaction.
    let handedOver = false;
    // A checked-out client whose connection dies between statements (e.g. while the relay is
    // publishing) emits 'error'; unhandled, that would crash the process. The next statement
    // fails anyway, and the client is then destroyed instead of returned to the pool.
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    try {
      const result = await fn(tx);
      commitSent = true;
      const outcome = await tx.commit();
      if (outcome.nextOpen === true) {
        const prefetched = tx.prefetched;
        if (outcome.nextRows !== undefined && prefetched?.fill({ client, first: prefetched.first, rows: outcome.nextRows }) === true) {
          handedOver = true;
        } else {
          // The next transaction's opening or first statement failed (or nobody will take it):
          // this one is committed; end that one before the connection goes back.
          await client.query('ROLLBACK').catch((err: unknown) => {
            broken = err instanceof Error ? err : new Error(String(err));
          });
        }
      }
      ended = true;
      // The outbox trigger noted rows to announce (000002): wake the relays now that they are
      // committed and visible.
      if (outcome.wakeDue) this.wakeup.request();
      return result;
    } catch (err) {
      // Whatever failed — the opening message, a statement, the handler, COMMIT — end any
      // transaction (ROLLBACK outside one only warns) and release the locks in one round trip,
      // so the connection goes back to the pool idle and holding nothing. If nothing was sent,
      // there is nothing to end.
      if (!tx.started) {
        ended = true;
      } else {
        await client.query(rollbackText(shape)).then(
          () => {
            ended = true;
          },
          (rollbackErr: unknown) => {
            broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
          },
        );
      }
      // A lost connection must not go back to the pool.
      if (broken === undefined && isConnectionError(err)) broken = err as Error;
      // The connection died with COMMIT in flight: it may have committed rows nobody announced
      // (a spare wake-up costs the relays one claim).
      if (shape.wakeAfterCommit && commitSent && isConnectionError(err)) this.wakeup.request();
      throw err;
    } finally {
      client.off('error', onError);
      // Never return a connection that may still be in a transaction or hold a session lock.
      if (!handedOver) client.release(broken ?? (ended ? false : new Error('transaction did not end cleanly')));
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
