import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '@aegis-ipc/testing';
import { PgDatabase } from '../../src/index.js';
import { runBatch } from '../../src/db/pg-batch.js';
import { AGGREGATE_LOCK_NAMESPACE, aggregateLockHash } from '../../src/db/aggregate-lock-key.js';

interface TableFixture {
  testDb: TestDatabase;
  outside: pg.Client;
  count(): Promise<number>;
}

/** A scratch database with a table `t (n >= 0)` emptied before each test, a client outside every batch, and its row count. */
function tableFixture(name: string): TableFixture {
  const fx = {
    count: async (): Promise<number> => (await fx.outside.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).rows[0]?.n ?? -1,
  } as TableFixture;
  beforeAll(async () => {
    fx.testDb = await createTestDatabase(name);
    fx.outside = new pg.Client({ connectionString: fx.testDb.url });
    await fx.outside.connect();
    await fx.outside.query('CREATE TABLE t (n int NOT NULL CHECK (n >= 0))');
  });
  afterAll(async () => {
    await fx.outside.end();
    await fx.testDb.drop();
  });
  beforeEach(async () => {
    await fx.outside.query('DELETE FROM t');
  });
  return fx;
}

/**
 * The one-Sync batch (ADR 0013, round 4) on a real PostgreSQL: an error skips the rest of the
 * batch (no COMMIT after a failure, no autocommitted statement after a failed lock), named
 * statements are parsed once per connection — and exactly when their Parse succeeded — and a
 * connection is reusable after any failure.
 */
describe('PgBatch: several statements in one message with one Sync', () => {
  const fx = tableFixture('aegis_outbox_batch');
  const insertT = { name: 'test_batch_insert_t', text: 'INSERT INTO t (n) VALUES ($1) RETURNING n' };

  const parsedOn = (client: pg.Client | pg.PoolClient): Record<string, string> =>
    (client as unknown as { connection: { parsedStatements: Record<string, string> } }).connection.parsedStatements;
  const serverStatements = async (client: pg.Client): Promise<string[]> =>
    (await client.query<{ name: string }>("SELECT name FROM pg_prepared_statements WHERE name LIKE 'test_batch_%' ORDER BY name")).rows.map((r) => r.name);


  const withClient = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: fx.testDb.url });
    c.on('error', () => undefined);
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end().catch(() => undefined);
    }
  };

  it('runs every step and returns each one its rows and command tag; a named statement is parsed on first use only', async () => {
    await withClient(async (c) => {
      const first = await runBatch(c, [{ sql: 'BEGIN' }, { sql: insertT, params: [1], rows: true }, { sql: insertT, params: [2], rows: true }, { sql: 'COMMIT' }]);
      expect(first.map((r) => r.command)).toEqual(['BEGIN', 'INSERT 0 1', 'INSERT 0 1', 'COMMIT']);
      expect(first[2]?.rows).toEqual([{ n: 2 }]);
      expect(parsedOn(c)[insertT.name]).toBe(insertT.text);
      expect(await serverStatements(c)).toEqual([insertT.name]);
      // Parsing again would fail with 42P05 (already exists): the second batch must only Bind.
      await runBatch(c, [{ sql: insertT, params: [3] }]);
      // pg's own named queries share the bookkeeping: no second Parse from them either.
      await c.query({ name: insertT.name, text: insertT.text, values: [4] });
    });
    expect(await fx.count()).toBe(4);
  });

  for (const failAt of [1, 2] as const) {
    it(`an error at statement ${failAt + 1} of BEGIN, INSERT, INSERT, COMMIT skips the rest: COMMIT never runs, nothing is written`, async () => {
      await withClient(async (c) => {
        const values = failAt === 1 ? [-1, 2] : [1, -2];
        const err = await runBatch(c, [{ sql: 'BEGIN' }, { sql: insertT, params: [values[0]] }, { sql: insertT, params: [values[1]] }, { sql: 'COMMIT' }]).catch((e: unknown) => e);
        expect((err as { code?: string }).code).toBe('23514'); // check_violation
        // The explicit transaction is aborted and still open (COMMIT was skipped): any statement
        // fails until ROLLBACK ends it.
        await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
        expect(await fx.count()).toBe(0);
        await c.query('ROLLBACK');
        // The Parse of the first INSERT succeeded before the failure (or the failure was in its
        // own Execute), so the statement exists on the server and is recorded as parsed.
        expect(parsedOn(c)[insertT.name]).toBe(insertT.text);
        expect((await runBatch(c, [{ sql: insertT, params: [7], rows: true }]))[0]?.rows).toEqual([{ n: 7 }]);
      });
      expect(await fx.count()).toBe(1);
    });
  }

  it('without BEGIN, statements after a failed one are skipped, not autocommitted', async () => {
    await withClient(async (c) => {
      await expect(runBatch(c, [{ sql: 'SELECT 1/0' }, { sql: insertT, params: [1] }])).rejects.toMatchObject({ code: '22012' });
      // The Parse of the INSERT was skipped with it: not recorded, so the next use parses it.
      expect(parsedOn(c)[insertT.name]).toBeUndefined();
      expect(await serverStatements(c)).toEqual([]);
      await runBatch(c, [{ sql: insertT, params: [2] }]);
      expect(await serverStatements(c)).toEqual([insertT.name]);
    });
    expect((await fx.outside.query<{ n: number }>('SELECT n FROM t')).rows).toEqual([{ n: 2 }]);
  });

  it('a Parse that fails is not recorded, and the connection stays usable', async () => {
    const bad = { name: 'test_batch_bad', text: 'INSERT INTO no_such_table VALUES ($1)' };
    await withClient(async (c) => {
      await expect(runBatch(c, [{ sql: bad, params: [1] }])).rejects.toMatchObject({ code: '42P01' });
      expect(parsedOn(c)[bad.name]).toBeUndefined();
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });
  });

  it('refuses a name already used for another text, before sending anything', async () => {
    await withClient(async (c) => {
      await runBatch(c, [{ sql: insertT, params: [1] }]);
      await expect(runBatch(c, [{ sql: { name: insertT.name, text: 'SELECT 1' } }])).rejects.toThrow(/different statement/);
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });
  });

  it('a connection reset mid-batch rejects the batch; nothing of it is committed', async () => {
    const lockArgs = [AGGREGATE_LOCK_NAMESPACE, aggregateLockHash('reset')];
    await fx.outside.query('SELECT pg_advisory_lock($1, $2)', lockArgs);
    try {
      await withClient(async (c) => {
        const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
        // The batch inserts, then waits on the lock held outside; the backend is killed there.
        const batch = runBatch(c, [{ sql: 'BEGIN' }, { sql: insertT, params: [1] }, { sql: 'SELECT pg_advisory_lock($1, $2)', params: lockArgs }, { sql: 'COMMIT' }]).catch((e: unknown) => e);
        await new Promise((r) => setTimeout(r, 200));
        await fx.outside.query('SELECT pg_terminate_backend($1)', [pid]);
        const err = await batch;
        expect(err).toBeInstanceOf(Error);
        expect(String((err as Error).message)).toMatch(/terminat/i);
      });
    } finally {
      await fx.outside.query('SELECT pg_advisory_unlock($1, $2)', lockArgs);
    }
    expect(await fx.count()).toBe(0);
  });
});

describe('PgDatabase transactions through batches', () => {
  const fx = tableFixture('aegis_outbox_batch_tx');
  const insertT = { name: 'test_tx_insert_t', text: 'INSERT INTO t (n) VALUES ($1) RETURNING n' };
  const KEY = 'batch-aggregate';
  const lockArgs = [AGGREGATE_LOCK_NAMESPACE, aggregateLockHash(KEY)];
  const locksHeld = async (): Promise<number> =>
    (
      await fx.outside.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      )
    ).rows[0]?.n ?? -1;
  const busy = async (app: string): Promise<number> =>
    (await fx.outside.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state <> 'idle'`, [app])).rows[0]?.n ?? -1;


  /** A one-connection database (so every transaction reuses the same backend), with a lock timeout. */
  const single = (app: string): PgDatabase => {
    const url = new URL(fx.testDb.url);
    url.searchParams.set('options', '-c lock_timeout=150');
    return new PgDatabase({ connectionString: url.toString(), poolSize: 1, applicationName: app });
  };
  const pidOf = async (db: PgDatabase): Promise<number | undefined> => (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]?.pid;

  it('statement not yet prepared on a new connection: the first transaction parses it inside the opening batch, later ones only bind', async () => {
    const db = single('aegis-batch-new-conn');
    try {
      for (let i = 0; i < 3; i++) {
        const [names, at] = await db.transaction(
          async (tx) => {
            await tx.query(insertT, [i]);
            const prepared = await tx.query<{ name: string }>(`SELECT name FROM pg_prepared_statements WHERE name LIKE 'aegis_tx_%' OR name LIKE 'test_tx_%' ORDER BY name`);
            return [prepared.map((r) => r.name), tx.queryAtCommit<{ n: number }>(insertT, [10 + i])] as const;
          },
          { lockKeys: [KEY], wakeRelaysAfterCommit: true },
        );
        expect(names).toEqual(['aegis_tx_advisory_lock_v1', 'aegis_tx_begin_rc_v1', 'aegis_tx_begin_rr_v1', 'aegis_tx_commit_v1', 'aegis_tx_wake_after_commit_v1', 'test_tx_insert_t', ...(i > 0 ? ['aegis_tx_advisory_unlock_all_v1', 'aegis_tx_wake_due_v1'] : [])].sort());
        expect(at.rows).toEqual([{ n: 10 + i }]);
      }
      expect(await fx.count()).toBe(6);
      expect(await locksHeld()).toBe(0);
    } finally {
      await db.close();
    }
  });

  it('the snapshot is taken after the lock on the batch path too: a REPEATABLE READ transaction that waited sees the holder\'s commit', async () => {
    const db = new PgDatabase({ connectionString: fx.testDb.url, poolSize: 1, applicationName: 'aegis-batch-snapshot' });
    const countT = { name: 'test_tx_count_t', text: 'SELECT count(*)::int AS n, current_setting($1) AS iso FROM t' };
    try {
      await fx.outside.query('SELECT pg_advisory_lock($1, $2)', lockArgs);
      await fx.outside.query('BEGIN');
      await fx.outside.query('INSERT INTO t VALUES (1)');
      // Opening (lock, BEGIN REPEATABLE READ, SET LOCAL) and this named statement: one batch,
      // whose Parse (first use on the connection) and Bind come after the lock is granted.
      const tx = db.transaction(async (q) => (await q.query<{ n: number; iso: string }>(countT, ['transaction_isolation']))[0], { lockKeys: [KEY], wakeRelaysAfterCommit: true });
      await new Promise((r) => setTimeout(r, 200));
      await fx.outside.query('COMMIT');
      await fx.outside.query('SELECT pg_advisory_unlock($1, $2)', lockArgs);
      expect(await tx).toEqual({ n: 1, iso: 'repeatable read' });
      expect(await locksHeld()).toBe(0);
    } finally {
      await db.close();
    }
  });

  it('a failed lock never lets the first statement run: nothing written, no lock held, the same connection is reused', async () => {
    const db = single('aegis-batch-lock-fail');
    try {
      const before = await pidOf(db);
      await fx.outside.query('SELECT pg_advisory_lock($1, $2)', lockArgs);
      try {
        const err = await db.transaction((tx) => tx.query(insertT, [1]), { lockKeys: [KEY] }).catch((e: unknown) => e);
        expect((err as { code?: string }).code).toBe('55P03'); // lock_not_available
      } finally {
        await fx.outside.query('SELECT pg_advisory_unlock($1, $2)', lockArgs);
      }
      expect(await fx.count()).toBe(0);
      expect(await locksHeld()).toBe(0);
      expect(await busy('aegis-batch-lock-fail')).toBe(0);
      // Pool reuse after the error: same backend, and the INSERT whose Parse was skipped is parsed now.
      expect(await db.transaction((tx) => tx.query(insertT, [2]), { lockKeys: [KEY] })).toEqual([{ n: 2 }]);
      expect(await pidOf(db)).toBe(before);
      expect(await fx.count()).toBe(1);
    } finally {
      await db.close();
    }
  });

  it('a failing at-commit statement skips COMMIT: the earlier statements are rolled back, the connection is reused', async () => {
    const db = single('aegis-batch-at-commit-fail');
    try {
      const before = await pidOf(db);
      const err = await db
        .transaction(
          async (tx) => {
            await tx.query(insertT, [1]);
            tx.queryAtCommit(insertT, [-1]);
          },
          { lockKeys: [KEY], wakeRelaysAfterCommit: true },
        )
        .catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('23514');
      expect(await fx.count()).toBe(0);
      expect(await locksHeld()).toBe(0);
      expect(await busy('aegis-batch-at-commit-fail')).toBe(0);
      expect(await pidOf(db)).toBe(before);
      await db.transaction(async (tx) => void tx.queryAtCommit(insertT, [3]), { lockKeys: [KEY] });
      expect(await fx.count()).toBe(1);
    } finally {
      await db.close();
    }
  });

  it('a connection reset mid-batch fails the transaction and the pool replaces the connection', async () => {
    const db = single('aegis-batch-reset');
    try {
      const before = await pidOf(db);
      await fx.outside.query('SELECT pg_advisory_lock($1, $2)', lockArgs);
      const url = new URL(fx.testDb.url);
      // No lock timeout here: the batch waits on the lock until its backend is terminated.
      const waiting = new PgDatabase({ connectionString: url.toString(), poolSize: 1, applicationName: 'aegis-batch-reset-2' });
      try {
        const tx = waiting.transaction((q) => q.query(insertT, [1]), { lockKeys: [KEY] }).catch((e: unknown) => e);
        await new Promise((r) => setTimeout(r, 200));
        await fx.outside.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'aegis-batch-reset-2'`);
        expect(String((await tx as Error).message)).toMatch(/terminat/i);
        // The dead connection was not returned to the pool: the next transaction gets a new one.
        expect(await waiting.transaction((q) => q.query(insertT, [2]), { lockKeys: ['another'] })).toEqual([{ n: 2 }]);
      } finally {
        await waiting.close();
        await fx.outside.query('SELECT pg_advisory_unlock($1, $2)', lockArgs);
      }
      expect(await fx.count()).toBe(1);
      expect(await locksHeld()).toBe(0);
      expect(await pidOf(db)).toBe(before);
    } finally {
      await db.close();
    }
  });

  it('a handler that swallows a failed statement cannot commit: COMMIT answers ROLLBACK and the transaction fails', async () => {
    const db = single('aegis-batch-swallowed');
    try {
      const err = await db
        .transaction(async (tx) => {
          await tx.query(insertT, [1]);
          await tx.query(insertT, [-1]).catch(() => undefined);
        })
        .catch((e: unknown) => e);
      expect(String((err as Error).message)).toMatch(/rolled back at COMMIT/);
      expect(await fx.count()).toBe(0);
      expect(await busy('aegis-batch-swallowed')).toBe(0);
    } finally {
      await db.close();
    }
  });

  it('queryAtCommit: rows only after commit, in call order, last; a transaction without statements sends nothing', async () => {
    const db = single('aegis-batch-at-commit-rules');
    try {
      let early: unknown;
      const [a, b] = await db.transaction(async (tx) => {
        const first = tx.queryAtCommit<{ n: number }>(insertT, [5]);
        try {
          void first.rows;
        } catch (e) {
          early = e;
        }
        const second = tx.queryAtCommit<{ n: number }>({ name: 'test_tx_max_t', text: 'SELECT max(n) AS n FROM t' });
        await expect(tx.query('SELECT 1')).rejects.toThrow(/follow queryAtCommit/);
        return [first, second] as const;
      });
      expect(String(early)).toMatch(/once the transaction has committed/);
      expect(a.rows).toEqual([{ n: 5 }]);
      // The second statement ran after the first, in the same transaction: it sees its row.
      expect(b.rows).toEqual([{ n: 5 }]);
      // Nothing sent: no lock is taken and nothing waits, even with the key locked elsewhere.
      await fx.outside.query('SELECT pg_advisory_lock($1, $2)', lockArgs);
      try {
        expect(await db.transaction(async () => 'nothing', { lockKeys: [KEY] })).toBe('nothing');
      } finally {
        await fx.outside.query('SELECT pg_advisory_unlock($1, $2)', lockArgs);
      }
      expect(await fx.count()).toBe(1);
    } finally {
      await db.close();
    }
  });
});
