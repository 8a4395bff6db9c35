import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '@aegis-ipc/testing';
import { PgDatabase, type NamedStatement, type PrefetchedTransaction } from '../../src/index.js';

/**
 * `Transaction.prefetchNext` (ADR 0013 round 5): the next transaction's first statement travels
 * in the message that commits this one, after COMMIT. These tests pin what it must keep: it sees
 * what was just committed; a failed COMMIT runs nothing after it; a failure of the next statement
 * does not undo the commit; an unused handle gives its locks and its connection back.
 */
describe('PgDatabase transactions that prefetch the next one', () => {
  let testDb: TestDatabase;
  let db: PgDatabase;
  let outside: pg.Client;
  const APP = 'aegis-prefetch-test';
  const RC = { isolation: 'READ_COMMITTED' } as const;
  const CLAIM: NamedStatement = { name: 'test_claim_q_v1', text: `SELECT id FROM q WHERE status = 'P' ORDER BY id LIMIT 2 FOR UPDATE SKIP LOCKED` };
  const MARK: NamedStatement = { name: 'test_mark_q_v1', text: `UPDATE q SET status = 'S' WHERE id = ANY($1::int[])` };
  const PID: NamedStatement = { name: 'test_pid_v1', text: 'SELECT pg_backend_pid() AS pid' };

  /** Ids of P rows nobody has locked, as another relay's claim would see them. */
  const claimableOutside = async (): Promise<number[]> => {
    await outside.query('BEGIN');
    try {
      return (await outside.query<{ id: number }>(`SELECT id FROM q WHERE status = 'P' ORDER BY id FOR UPDATE SKIP LOCKED`)).rows.map((r) => r.id);
    } finally {
      await outside.query('ROLLBACK');
    }
  };
  const busyConnections = async (): Promise<number> =>
    (await outside.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state <> 'idle'`, [APP])).rows[0]?.n ?? -1;
  /** One batch: claim (or take the prefetched claim), mark them, optionally prefetch the next claim. */
  const batch = (continueFrom: PrefetchedTransaction | undefined, prefetch: NamedStatement | undefined) => {
    let next: PrefetchedTransaction | undefined;
    return db
      .transaction(
        async (tx) => {
          const ids = (await tx.query<{ id: number }>(CLAIM)).map((r) => r.id);
          const pid = (await tx.query<{ pid: number }>(PID))[0]?.pid;
          tx.queryAtCommit(MARK, [ids]);
          if (prefetch !== undefined) next = tx.prefetchNext?.(prefetch);
          return { ids, pid };
        },
        { ...RC, continueFrom },
      )
      .then((r) => ({ ...r, next }));
  };

  beforeAll(async () => {
    testDb = await createTestDatabase('aegis_outbox_prefetch');
    db = new PgDatabase({ connectionString: testDb.url, poolSize: 2, applicationName: APP });
    outside = new pg.Client({ connectionString: testDb.url });
    await outside.connect();
    await outside.query(`CREATE TABLE q (id int PRIMARY KEY, status text NOT NULL DEFAULT 'P')`);
  });
  beforeEach(async () => {
    await outside.query('TRUNCATE q');
    await outside.query('INSERT INTO q (id) SELECT g FROM generate_series(1, 5) g');
  });
  afterAll(async () => {
    await outside.end();
    await db.close();
    await testDb.drop();
  });

  it('runs the next first statement after COMMIT, on the same connection, seeing the commit', async () => {
    const first = await batch(undefined, CLAIM);
    expect(first.ids).toEqual([1, 2]);
    // Rows 3 and 4 are already claimed (locked) by the prefetched transaction.
    expect(await claimableOutside()).toEqual([5]);
    const second = await batch(first.next, undefined);
    expect(second.ids).toEqual([3, 4]);
    expect(second.pid).toBe(first.pid);
    expect(await claimableOutside()).toEqual([5]);
    expect((await outside.query(`SELECT id FROM q WHERE status = 'S' ORDER BY id`)).rows.map((r: { id: number }) => r.id)).toEqual([1, 2, 3, 4]);
    await first.next?.release(); // taken already: nothing to do
    expect(await busyConnections()).toBe(0);
  });

  it('a failed COMMIT runs nothing after it: the handle is empty and no row stays locked', async () => {
    await outside.query(`CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$`);
    await outside.query('CREATE CONSTRAINT TRIGGER boom AFTER UPDATE ON q DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION boom()');
    let next: PrefetchedTransaction | undefined;
    try {
      const err = await db
        .transaction(
          async (tx) => {
            await tx.query(CLAIM);
            tx.queryAtCommit(MARK, [[1, 2]]);
            next = tx.prefetchNext?.(CLAIM);
          },
          RC,
        )
        .catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/boom/);
    } finally {
      await outside.query('DROP TRIGGER boom ON q');
      await outside.query('DROP FUNCTION boom()');
    }
    expect(await claimableOutside()).toEqual([1, 2, 3, 4, 5]);
    expect(await busyConnections()).toBe(0);
    // An empty handle: the next transaction is a normal one.
    const again = await batch(next, undefined);
    expect(again.ids).toEqual([1, 2]);
    expect(await busyConnections()).toBe(0);
  });

  it('a next statement that fails does not undo the commit, and the connection goes back idle', async () => {
    const first = await batch(undefined, { name: 'test_fail_v1', text: 'SELECT 1 / 0 AS x' });
    expect(first.ids).toEqual([1, 2]);
    expect(await claimableOutside()).toEqual([3, 4, 5]);
    expect(await busyConnections()).toBe(0);
    const second = await batch(first.next, undefined);
    expect(second.ids).toEqual([3, 4]);
  });

  it('an unused handle, released, rolls back: its rows are claimable again, its connection idle', async () => {
    const first = await batch(undefined, CLAIM);
    expect(await claimableOutside()).toEqual([5]);
    await first.next?.release();
    await first.next?.release();
    expect(await claimableOutside()).toEqual([3, 4, 5]);
    expect(await busyConnections()).toBe(0);
    // A released handle is empty.
    expect((await batch(first.next, undefined)).ids).toEqual([3, 4]);
  });

  it('is refused with lockKeys', async () => {
    const err = await db.transaction(async (tx) => tx.prefetchNext?.(CLAIM), { lockKeys: ['k'] }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/lockKeys/);
    expect(await busyConnections()).toBe(0);
  });
});
