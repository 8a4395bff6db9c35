/**
 * The outbox bench's raw relay floor (bench/outbox.ts): a minimal `SKIP LOCKED` claim → JetStream
 * publish → mark SENT loop over a bare table, batch `batch`, no order guard, no retry bookkeeping,
 * no metrics — the least any relay must do, measured beside `OutboxRelay` in the same run.
 */
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { PgDatabase, PrefetchedTransaction } from '@aegis-ipc/outbox';
import type { RawCaller } from './raw-caller.js';

/** Rows done in `ms` by one side of one round, and this process's CPU time meanwhile. */
export interface Sample {
  rows: number;
  ms: number;
  cpuUs: number;
}

/** This process's CPU time (user + system) since `from`, in µs. */
export function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return d.user + d.system;
}

export interface RawOutboxLoopOptions {
  readonly db: PgDatabase;
  readonly publisher: RawCaller;
  /** Messages go to `<topic>.<key>`. */
  readonly topic: string;
  readonly batch: number;
  readonly aggregates: number;
}

/** The loop's two steps: fill a bare table with `rows` pending rows, and drain it. */
export interface RawOutboxLoop {
  /** Creates `table` and bulk-inserts `rows` pending rows; resolves with the insert's ms. */
  setup(table: string, message: 'event' | 'tiny', rows: number): Promise<number>;
  /** Drains at least `target` rows (whole batches) or until the table is empty. */
  drain(table: string, message: 'event' | 'tiny', target: number): Promise<Sample>;
}

export function rawOutboxLoop({ db, publisher, topic, batch, aggregates }: RawOutboxLoopOptions): RawOutboxLoop {
  // A batch's publishes are in flight together and their acks awaited. `event` rows carry the
  // SAME message the relay must publish (ADR 0012: the stored event as JSON, ~600 bytes, with the
  // event headers and traceparent); `tiny` rows a `{"n":1}` body and one header, which makes the
  // broker's work per message ~40 % smaller than the relay's (reported apart, never the headline).
  const enc = new TextEncoder();
  const setup = async (table: string, message: 'event' | 'tiny', rows: number): Promise<number> => {
    await db.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, event_id uuid NOT NULL, key text NOT NULL, payload jsonb NOT NULL, headers jsonb NOT NULL, status text NOT NULL DEFAULT 'PENDING')`);
    await db.query(`CREATE INDEX ${table}_pending ON ${table} (id) WHERE status = 'PENDING'`);
    const start = performance.now();
    await db.query(
      message === 'tiny'
        ? `INSERT INTO ${table} (event_id, key, payload, headers)
           SELECT gen_random_uuid(), 'agg-' || (g % ${aggregates}), jsonb_build_object('n', g), '{}' FROM generate_series(1, $1) g`
        : `INSERT INTO ${table} (event_id, key, payload, headers)
           SELECT e.id, e.agg, jsonb_build_object(
             'sequence', g, 'event_id', e.id, 'correlation_id', 'c-' || g, 'causation_id', gen_random_uuid(),
             'event_type', 'Bench.Session.StageConfirmed', 'event_version', 1, 'aggregate_type', 'BENCH',
             'aggregate_id', e.agg, 'payload', jsonb_build_object('n', g),
             'metadata', jsonb_build_object('command_id', gen_random_uuid(), 'command_type', 'ConfirmStage', 'trace', jsonb_build_object('traceparent', e.tp)),
             'created_at', now()),
             jsonb_build_object('traceparent', e.tp)
           FROM generate_series(1, $1) g,
                LATERAL (SELECT gen_random_uuid() AS id, md5('agg' || (g % ${aggregates}))::uuid::text AS agg,
                                '00-' || md5(g::text) || '-' || left(md5('s' || g), 16) || '-01' AS tp) e`,
      [rows],
    );
    return performance.now() - start;
  };
  const markRawSent = (table: string) => ({ name: `bench_mark_sent_${table}`, text: `UPDATE ${table} SET status = 'SENT' WHERE id = ANY($1::bigint[])` });
  // A named prepared claim, as the relay's (ADR 0013 round 5): parsed and planned once per
  // connection, after the opening's `SET LOCAL enable_sort = off` in the same message.
  const claimRaw = (table: string) => ({ name: `bench_claim_${table}`, text: `SELECT id, event_id, key, payload, headers FROM ${table} WHERE status = 'PENDING' ORDER BY id LIMIT ${batch} FOR UPDATE SKIP LOCKED` });
  const drain = async (table: string, message: 'event' | 'tiny', target: number): Promise<Sample> => {
    const cpu = process.cpuUsage();
    const start = performance.now();
    let rows = 0;
    // The next claim sent with the COMMIT, as the relay does (ADR 0013 round 5): one round trip
    // per batch. Only while more rows are wanted, so a drain ends with nothing claimed.
    let prefetched: PrefetchedTransaction | undefined;
    while (rows < target) {
      const continueFrom = prefetched;
      prefetched = undefined;
      const n = await db.transaction(
        async (tx) => {
          const claimed = await tx.query<{ id: string; event_id: string; key: string; payload: { event_type?: string; sequence?: number }; headers: Record<string, string> }>(claimRaw(table));
          await Promise.all(
            claimed.map((r) => {
              const h = natsHeaders();
              h.set('Nats-Msg-Id', r.event_id);
              if (message === 'event') {
                h.set('Ipc-Message-Id', r.event_id);
                h.set('Aegis-Event-Type', String(r.payload.event_type));
                h.set('Aegis-Aggregate-Id', r.key);
                h.set('Aegis-Event-Sequence', String(r.payload.sequence));
                for (const [k, v] of Object.entries(r.headers)) h.set(k, v);
              }
              return publisher.publishJetStream(`${topic}.${r.key}`, enc.encode(JSON.stringify(r.payload)), 30_000, h);
            }),
          );
          // With COMMIT in one message, as the relay marks its batch (a hand-written loop can
          // send `UPDATE …; COMMIT` together too).
          if (claimed.length > 0) tx.queryAtCommit(markRawSent(table), [claimed.map((r) => r.id)]);
          if (claimed.length > 0 && rows + claimed.length < target) prefetched = tx.prefetchNext?.(claimRaw(table));
          return claimed.length;
        },
        // The relay's plan setting (ADR 0013), in the opening message: on the freshly bulk-loaded,
        // not yet analyzed table PostgreSQL otherwise reads and sorts every pending row per
        // claim (1.8 ms instead of 0.08 ms at 5,000 rows), which made round 0's floor slow.
        { isolation: 'READ_COMMITTED', localSettings: { enable_sort: 'off' }, continueFrom },
      );
      if (n === 0) break;
      rows += n;
    }
    await prefetched?.release();
    return { rows, ms: performance.now() - start, cpuUs: cpuSince(cpu) };
  };
  return { setup, drain };
}
