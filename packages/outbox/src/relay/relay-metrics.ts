/**
 * Relay metrics (SPEC OBS-1 "relay metrics: pending, sent, failed, lag") in a registry of their
 * own, so two relays in one process (tests) do not collide. Backlog gauges are read from the
 * database at scrape time: they are true for the whole outbox, not only for this relay.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Queryable } from '../db/database.js';
import { outboxStats } from '../sql/outbox-stats.js';

export interface RelayMetrics {
  readonly registry: Registry;
  readonly sent: Counter;
  readonly failed: Counter;
  readonly retried: Counter;
  readonly publishDuration: Histogram;
  readonly lag: Histogram;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createRelayMetrics(db: Queryable, labels: { relay_id: string }): RelayMetrics {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  const sent = new Counter({ name: 'ipc_outbox_sent_total', help: 'Outbox rows published and marked SENT by this relay.', registers: [registry] });
  const failed = new Counter({ name: 'ipc_outbox_failed_total', help: 'Outbox rows marked FAILED by this relay after the last retry.', registers: [registry] });
  const retried = new Counter({ name: 'ipc_outbox_retries_total', help: 'Failed publishes scheduled for a retry.', registers: [registry] });
  const publishDuration = new Histogram({
    name: 'ipc_outbox_publish_duration_seconds',
    help: 'Time from handing a row to the sink to its ack.',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const lag = new Histogram({
    name: 'ipc_outbox_lag_seconds',
    help: 'Time from the event row being written to its publish being acked (commit-to-publish plus transaction time).',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  let stats: Promise<Awaited<ReturnType<typeof outboxStats>>> | undefined;
  // One query per scrape serves all three gauges.
  const readStats = () => (stats ??= outboxStats(db).finally(() => setTimeout(() => (stats = undefined), 100).unref()));
  new Gauge({
    name: 'ipc_outbox_pending',
    help: 'Outbox rows waiting to be published (PENDING).',
    registers: [registry],
    async collect() {
      this.set((await readStats()).pending);
    },
  });
  new Gauge({
    name: 'ipc_outbox_failed',
    help: 'Outbox rows FAILED and waiting for `aegis outbox replay`.',
    registers: [registry],
    async collect() {
      this.set((await readStats()).failed);
    },
  });
  new Gauge({
    name: 'ipc_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest PENDING outbox row (0 when none).',
    registers: [registry],
    async collect() {
      this.set((await readStats()).oldestPendingAgeSeconds);
    },
  });
  return { registry, sent, failed, retried, publishDuration, lag };
}
