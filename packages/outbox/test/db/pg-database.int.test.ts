import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '@aegis-ipc/testing';
import { PgDatabase } from '../../src/index.js';
import { AGGREGATE_LOCK_NAMESPACE, aggregateLockHash } from '../../src/db/aggregate-lock-key.js';

/**
 * `PgDatabase.transaction` with lock keys sends the lock and BEGIN in one message and COMMIT (or
 * ROLLBACK) with the unlock in another (ADR 0010, ADR 0013). These tests pin what that must keep:
 * the snapshot is taken after the lock is held, the isolation level is the one asked for, and
 * whatever fails, the connection goes back to the pool idle and holding no lock.
 */
describe('PgDatabase transactions with aggregate locks', () => {
  let testDb: TestDatabase;
  let db: PgDatabase;
  let outside: pg.Client;
  const KEY = 'aggregate-1';
  const lockArgs = [AGGREGATE_LOCK_NAMESPACE, aggregateLockHash(KEY)];

  /**
   * Advisory locks held in this test's database by connections other than `outside` (pg_locks
   * covers the whole cluster, where other test files hold their own).
   */
  const locksHeld = async (): Promise<number> => {
    const res = await outside.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND pid <> pg_backend_pid()
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    return res.rows[0]?.n ?? -1;
  };
  /** Pool connections (by application name) that are not idle: inside a transaction or running. */
  const busyConnections = async (applicationName: string): Promise<number> => {
    const res = await outside.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state <> 'idle'`, [applicationName]);
    return res.rows[0]?.n ?? -1;
  };

  beforeAll(async () => {
    testDb = await createTestDatabase('aegis_outbox_pgdb');
    db = new PgDatabase({ connectionString: testDb.url, poolSize: 4, applicationName: 'aegis-pgdb-test' });
    outside = new pg.Client({ connectionString: testDb.url });
    await outside.connect();
    await outside.query('CREATE TABLE t (n int NOT NULL)');
  });
  afterAll(async () => {
    await outside.end();
    await db.close();
    await testDb.drop();
  });

  for (const wakeRelaysAfterCommit of [false, true]) {
  it(`takes the lock before the snapshot: a REPEATABLE READ transaction sees the commit of the lock holder${wakeRelaysAfterCommit ? ' (with SET LOCAL for the post-commit wake-up)' : ''}`, async () => {
    await outside.query('DELETE FROM t');
    await outside.query('SELECT pg_advisory_lock($1, $2)', lockArgs);
    await outside.query('BEGIN');
    await outside.query('INSERT INTO t VALUES (1)');
    const tx = db.transaction(
      async (q) => {
        const [iso] = await q.query<{ transaction_isolation: string }>('SHOW transaction_isolation');
        const [seen] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
        return { iso: iso?.transaction_isolation, seen: seen?.n };
      },
      { lockKeys: [KEY], wakeRelaysAfterCommit },
    );
    await new Promise((r) => setTimeout(r, 200)); // the transaction is now waiting for the lock
    await outside.query('COMMIT');
    await outside.query('SELECT pg_advisory_unlock($1, $2)', lockArgs);
    expect(await tx).toEqual({ iso: 'repeatable read', seen: 1 });
    expect(await locksHeld()).toBe(0);
    expect(await busyConnections('aegis-pgdb-test')).toBe(0);
  });
  }

  it('transaction-local settings hold for the first statement (named or text) and end with the transaction', async () => {
    const sortIn = async (first: 'named' | 'text', lockKeys: string[]): Promise<string | undefined> =>
      db.transaction(
        async (q) => {
          const [row] = first === 'named'
            ? await q.query<{ s: string }>({ name: 'test_show_sort_v1', text: `SELECT current_setting('enable_sort') AS s` })
            : await q.query<{ s: string }>(`SELECT current_setting('enable_sort') AS s`);
          return row?.s;
        },
        { isolation: 'READ_COMMITTED', lockKeys, localSettings: { enable_sort: 'off' } },
      );
    for (const first of ['named', 'text'] as const) {
      expect(await sortIn(first, [])).toBe('off');
      expect(await sortIn(first, [KEY])).toBe('off');
    }
    // Every pool connection is back to the server default (SET LOCAL ended with its transaction).
    const after = await Promise.all(
      Array.from({ length: 4 }, () => db.transaction(async (q) => (await q.query<{ s: string }>(`SELECT current_setting('enable_sort') AS s`))[0]?.s)),
    );
    expect(after).toEqual(['on', 'on', 'on', 'on']);
    expect(await busyConnections('aegis-pgdb-test')).toBe(0);
    const invalid: Array<Record<string, string>> = [{ 'enable_sort; DROP TABLE t': 'off' }, { enable_sort: "off'; DROP TABLE t; --" }];
    for (const bad of invalid) {
      await expect(db.transaction((q) => q.query('SELECT 1'), { localSettings: bad })).rejects.toThrow(RangeError);
    }
    expect(await locksHeld()).toBe(0);
  });

  it('a failed COMMIT still releases the lock and leaves the connection idle', async () => {
    await outside.query(`CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$`);
    await outside.query('CREATE CONSTRAINT TRIGGER boom AFTER INSERT ON t DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION boom()');
    try {
      const err = await db.transaction((q) => q.query('INSERT INTO t VALUES (2)'), { lockKeys: [KEY] }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/boom/);
    } finally {
      await outside.query('DROP TRIGGER boom ON t');
    }
    expect(await locksHeld()).toBe(0);
    expect(await busyConnections('aegis-pgdb-test')).toBe(0);
    const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
    expect(row?.n).toBe(1);
  });

  it('a handler error releases the lock; the next transaction on the key goes through', async () => {
    const err = await db
      .transaction(
        async (q) => {
          await q.query('INSERT INTO t VALUES (3)');
          throw new Error('handler failed');
        },
        { lockKeys: [KEY] },
      )
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('handler failed');
    expect(await locksHeld()).toBe(0);
    expect(await db.transaction(async (q) => (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM t'))[0]?.n, { lockKeys: [KEY] })).toBe(1);
  });

  it('a lock that times out ends the transaction and keeps the connection usable (same backend, no lock)', async () => {
    const url = new URL(testDb.url);
    url.searchParams.set('options', '-c lock_timeout=100');
    const one = new PgDatabase({ connectionString: url.toString(), poolSize: 1, applicationName: 'aegis-pgdb-timeout' });
    try {
      const pidOf = (): Promise<number | undefined> =>
        one.transaction(async (q) => (await q.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]?.pid, { lockKeys: [KEY] });
      const before = await pidOf();
      await outside.query('SELECT pg_advisory_lock($1, $2)', lockArgs);
      const err = await pidOf().catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('55P03');
      expect(await busyConnections('aegis-pgdb-timeout')).toBe(0);
      await outside.query('SELECT pg_advisory_unlock($1, $2)', lockArgs);
      expect(await pidOf()).toBe(before);
      expect(await locksHeld()).toBe(0);
    } finally {
      await one.close();
    }
  });
});
