/**
 * The relay (SPEC OB-4, OB-5): claims PENDING outbox rows with FOR UPDATE SKIP LOCKED, publishes
 * them to a sink, marks them SENT — or schedules a 1 s/2 s/4 s retry, then FAILED — and commits.
 *
 * - Wakes on LISTEN/NOTIFY at the writer's commit; polls every `pollIntervalMs` as a fallback.
 * - Several relays share the work safely; per-aggregate order holds across them (see
 *   `sql/claim-outbox-heads.ts` and docs/adr/0010).
 * - With an OpenTelemetry tracer provider registered, each publish is an `ipc.outbox.relay_publish`
 *   span under the trace stored with the row, and carries that span's `traceparent`.
 * - While it has work, the next claim travels with the previous batch's mark and COMMIT, after
 *   the COMMIT, in one message (PostgreSQL, `Transaction.prefetchNext`): one round trip per batch.
 * - `close()` stops claiming, lets the batch in flight finish (published rows are marked), rolls
 *   back a claim already prefetched (its rows are PENDING again), then returns: a SIGTERM loses
 *   nothing. A SIGKILL mid-batch leaves the claimed rows PENDING; they
 *   are published again and JetStream drops the copy by `Nats-Msg-Id`.
 */
import { OUTBOX_CHANNEL, type Database, type PrefetchedTransaction } from '../db/database.js';
import { CLAIM_TRANSACTION, claimOutboxHeads, claimStatement } from '../sql/claim-outbox-heads.js';
import { markOutboxSentAtCommit } from '../sql/mark-outbox-sent.js';
import { markOutboxAttemptFailed } from '../sql/mark-outbox-attempt-failed.js';
import type { OutboxSink } from '../sinks/outbox-sink.js';
import type { OutboxRecord } from '../types.js';
import { publishInSpan } from '../tracing/relay-publish-span.js';
import { tracingActive } from '@aegis-ipc/sdk';
import { createRelayMetrics, type RelayMetrics } from './relay-metrics.js';
import { nextRetryDelay } from './retry-policy.js';
import { resolveRelayOptions, type OutboxRelayOptions, type ResolvedRelayOptions } from './relay-options.js';

/** What one batch did. */
export interface BatchResult {
  readonly claimed: number;
  readonly sent: number;
  readonly retried: number;
  readonly failed: number;
}

/**
 * @example
 * const relay = new OutboxRelay(db, await NatsJetStreamSink.create({ servers }), { batchSize: 100 });
 * await relay.start();
 * process.once('SIGTERM', () => void relay.close());
 */
export class OutboxRelay {
  readonly options: ResolvedRelayOptions;
  readonly metrics: RelayMetrics;
  private running = false;
  private loopDone: Promise<void> | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private wake: (() => void) | undefined;
  private notified = false;
  /** Earliest retry this relay scheduled: wake up for it instead of waiting for the poll. */
  private nextRetryAt = Number.POSITIVE_INFINITY;
  private readonly publishToSink = (row: OutboxRecord): Promise<void> => this.sink.publish(row);
  /** The next batch's claim, sent with the last COMMIT (PostgreSQL); released when stopping. */
  private prefetched: PrefetchedTransaction | undefined;

  constructor(
    private readonly db: Database,
    private readonly sink: OutboxSink,
    options: OutboxRelayOptions = {},
  ) {
    this.options = resolveRelayOptions(options);
    this.metrics = createRelayMetrics(db, { relay_id: this.options.relayId });
  }

  /** True between `start()` and `close()`. */
  get isRunning(): boolean {
    return this.running;
  }

  /** Starts listening and the claim loop. Resolves once LISTEN is active. */
  async start(): Promise<void> {
    if (this.running) return;
    this.unlisten = await this.db.listen(OUTBOX_CHANNEL, () => this.signal());
    this.running = true;
    this.loopDone = this.loop();
  }

  /** Stops claiming, finishes the batch in flight, stops listening. Does not close db or sink. */
  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.signal();
    await this.loopDone;
    await this.unlisten?.();
    this.options.logger?.info({ event: 'relay_stopped', relay_id: this.options.relayId }, 'relay stopped');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Claims, publishes and marks one batch. Exposed for tests and one-shot draining. */
  async runBatch(): Promise<BatchResult> {
    // The claim the previous batch sent with its COMMIT, if any (its rows are already locked).
    const continueFrom = this.prefetched;
    this.prefetched = undefined;
    let next: PrefetchedTransaction | undefined;
    // Rows sent by this batch, kept only when their per-row debug line will be written (after COMMIT).
    let sentRows: OutboxRecord[] | undefined;
    const log = this.options.logger;
    return this.db.transaction(
      async (tx) => {
        const rows = await claimOutboxHeads(tx, this.options.batchSize);
        if (rows.length === 0) return { claimed: 0, sent: 0, retried: 0, failed: 0 };
        const outcomes = await this.publishBatch(rows);
        const sentIds = rows.filter((_, i) => outcomes[i] === undefined).map((r) => r.id);
        if (log?.isLevelEnabled('debug') === true) sentRows = rows.filter((_, i) => outcomes[i] === undefined);
        let retried = 0;
        let failed = 0;
        for (const [i, row] of rows.entries()) {
          const error = outcomes[i];
          if (error === undefined) continue;
          const delay = nextRetryDelay(row.attempts + 1, this.options.retryDelaysMs);
          await markOutboxAttemptFailed(tx, row.id, error, delay);
          if (delay === undefined) {
            failed++;
            log?.error(
              { event: 'outbox_event_failed', relay_id: this.options.relayId, message_id: row.eventId, trace_id: traceIdOf(row), attempts: row.attempts + 1, err: error },
              'outbox row FAILED after the last retry',
            );
          } else {
            retried++;
            this.nextRetryAt = Math.min(this.nextRetryAt, Date.now() + delay);
            log?.warn(
              { event: 'outbox_publish_retry', relay_id: this.options.relayId, message_id: row.eventId, trace_id: traceIdOf(row), attempt: row.attempts + 1, retry_in_ms: delay, err: error },
              'publish failed; retry scheduled',
            );
          }
        }
        // Last, so it travels with COMMIT: one round trip for the marks and the commit.
        markOutboxSentAtCommit(tx, sentIds);
        // There was work, so there may be more: the next claim goes in the same message, after
        // COMMIT, in a transaction of its own (a failed COMMIT skips it). Not when stopping.
        if (this.running && tx.prefetchNext !== undefined) next = tx.prefetchNext(claimStatement(this.options.batchSize));
        return { claimed: rows.length, sent: sentIds.length, retried, failed };
      },
      { ...CLAIM_TRANSACTION, continueFrom },
    ).then(
      (result) => {
        // Count only after commit: a batch rolled back by a lost connection sent nothing for good.
        this.metrics.sent.inc(result.sent);
        this.metrics.retried.inc(result.retried);
        this.metrics.failed.inc(result.failed);
        this.prefetched = next;
        if (sentRows !== undefined) {
          for (const row of sentRows) log?.debug({ event: 'outbox_event_sent', relay_id: this.options.relayId, message_id: row.eventId, trace_id: traceIdOf(row) }, 'outbox event published and marked SENT');
        }
        return result;
      },
      async (err: unknown) => {
        await next?.release();
        throw err;
      },
    );
  }

  /**
   * Publishes a claimed batch; resolves, once every row has settled, with one outcome per row:
   * undefined when the sink accepted it, else the error text. One row per aggregate, so
   * publishing them concurrently cannot reorder an aggregate.
   *
   * Plain callbacks on each sink promise rather than an async function per row awaited by
   * `Promise.all`: with no tracer provider a row's publish is the sink's own promise, not three
   * promise layers deep (ADR 0013, round 5). All rows are handed to the sink in this one
   * synchronous loop, so one start time is every row's start time.
   */
  private publishBatch(rows: readonly OutboxRecord[]): Promise<Array<string | undefined>> {
    const traced = tracingActive();
    const started = performance.now();
    const outcomes = new Array<string | undefined>(rows.length);
    return new Promise((resolve) => {
      let left = rows.length;
      const settle = (i: number, error: string | undefined): void => {
        outcomes[i] = error;
        if (--left === 0) resolve(outcomes);
      };
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as OutboxRecord;
        let published: Promise<void>;
        try {
          published = traced ? publishInSpan(row, this.sink.name, this.publishToSink) : this.sink.publish(row);
        } catch (err) {
          published = Promise.reject(err instanceof Error ? err : new Error(String(err)));
        }
        published.then(
          () => {
            try {
              this.metrics.publishDuration.observe((performance.now() - started) / 1000);
              this.metrics.lag.observe(Math.max(0, Date.now() - row.createdAt.getTime()) / 1000);
            } catch {
              // A metric (e.g. a row whose created_at is not a date) never turns a publish into a failure.
            }
            settle(i, undefined);
          },
          (err: unknown) => settle(i, err instanceof Error ? `${err.name}: ${err.message}` : String(err)),
        );
      }
    });
  }

  private async loop(): Promise<void> {
    try {
      await this.claimLoop();
    } finally {
      // Stopped with a claim prefetched: roll it back, so its rows are PENDING and unlocked again.
      const prefetched = this.prefetched;
      this.prefetched = undefined;
      await prefetched?.release().catch((err: unknown) => this.options.logger?.warn({ event: 'outbox_prefetch_release_failed', relay_id: this.options.relayId, err }, 'releasing the prefetched claim failed'));
    }
  }

  private async claimLoop(): Promise<void> {
    const log = this.options.logger;
    while (this.running) {
      this.notified = false;
      // A retry that is due now is claimed by this batch, which schedules the next one if needed.
      if (this.nextRetryAt <= Date.now()) this.nextRetryAt = Number.POSITIVE_INFINITY;
      let claimed: number;
      try {
        claimed = (await this.runBatch()).claimed;
      } catch (err) {
        log?.warn({ event: 'outbox_batch_failed', relay_id: this.options.relayId, err }, 'relay batch failed; will retry');
        await this.sleep(this.options.errorBackoffMs);
        continue;
      }
      // More work may be waiting (the next event of each aggregate we just sent): go again.
      if (claimed > 0) continue;
      // +25 ms: wake just after the row's next_attempt_at (set by the database clock), not just before.
      await this.sleep(Math.max(0, Math.min(this.options.pollIntervalMs, this.nextRetryAt + 25 - Date.now())));
    }
  }

  /** Waits `ms`, or until NOTIFY/close wakes us (a NOTIFY during the batch counts too). */
  private sleep(ms: number): Promise<void> {
    if (this.notified || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake = done;
    });
  }

  private signal(): void {
    this.notified = true;
    this.wake?.();
  }
}

/** The trace id of the row's stored `traceparent`; undefined when it was written untraced (nothing is made up). */
function traceIdOf(row: OutboxRecord): string | undefined {
  return row.headers.traceparent?.split('-')[1];
}
