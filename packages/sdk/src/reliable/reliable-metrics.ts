/**
 * Prometheus metrics of exactly-once calls (SPEC OBS-1), on the registry the caller, instance or
 * router passes; created once per registry so callers and receivers in one process share them.
 * Counters are {@link FoldedCounter}s: the per-call paths increment bound counters (`bind()`)
 * that are folded in on scrape.
 */
import { Histogram, register as globalRegistry, type Registry } from 'prom-client';
import { FoldedCounter } from '../metrics/folded-counter.js';

export interface ReliableMetrics {
  readonly sent: FoldedCounter<'service_name'>;
  readonly acknowledged: FoldedCounter<'service_name' | 'status'>;
  /** Redeliveries seen by receivers (`side=receiver`) and re-publications by waiting callers (`side=caller`). */
  readonly retried: FoldedCounter<'service_name' | 'side'>;
  readonly duplicates: FoldedCounter<'service_name'>;
  readonly processingDuration: Histogram<'service_name'>;
  readonly ackTimeouts: FoldedCounter<'service_name'>;
  /** Dedupe lookups answered from the cache (duplicates) vs. not (hit ratio = hits / (hits + misses)). */
  readonly cacheHits: FoldedCounter<'service_name'>;
  readonly cacheMisses: FoldedCounter<'service_name'>;
  readonly deadLettered: FoldedCounter<'service_name'>;
  /**
   * Runs that found their lease (`{ store }` dedupe record or claimed status record) lost while the
   * handler ran or, after a stall past it, at their end (ADR 0027): another copy may have run beside them.
   */
  readonly leaseLost: FoldedCounter<'service_name'>;
  /**
   * Copies of a message id whose deliveries ran out while another delivery held the id's live
   * lease: dropped instead of parking the id (ADR 0027, round 3); the holder's outcome answers.
   */
  readonly copiesDropped: FoldedCounter<'service_name'>;
}

const byRegistry = new WeakMap<Registry, ReliableMetrics>();

/** The reliable-call metrics on `registry` (prom-client's global registry by default). */
export function reliableMetrics(registry: Registry = globalRegistry): ReliableMetrics {
  const existing = byRegistry.get(registry);
  if (existing !== undefined) return existing;
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new FoldedCounter<L>({ name, help, labelNames, registers: [registry] });
  const metrics: ReliableMetrics = {
    sent: counter('ipc_messages_sent_total', 'Reliable requests made durable in JetStream.', ['service_name']),
    acknowledged: counter('ipc_messages_acknowledged_total', 'ACKs published by receivers, by status.', ['service_name', 'status']),
    retried: counter('ipc_messages_retried_total', 'Redeliveries (receiver) and re-publications while waiting (caller).', ['service_name', 'side']),
    duplicates: counter('ipc_messages_duplicates_total', 'Deliveries of an already processed message id, answered from the cache.', ['service_name']),
    processingDuration: new Histogram({
      name: 'ipc_message_processing_duration_seconds',
      help: 'Handler time of reliable requests, dedupe and commit included.',
      labelNames: ['service_name'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30],
      registers: [registry],
    }),
    ackTimeouts: counter('ipc_acknowledgment_timeout_total', 'Callers that gave up waiting for an ACK.', ['service_name']),
    cacheHits: counter('ipc_message_cache_hits_total', 'Dedupe/inbox lookups that found a stored response.', ['service_name']),
    cacheMisses: counter('ipc_message_cache_misses_total', 'Dedupe/inbox lookups that found nothing and processed.', ['service_name']),
    deadLettered: counter('ipc_messages_dead_lettered_total', 'Reliable requests parked in the dead-letter stream.', ['service_name']),
    leaseLost: counter(
      'ipc_messages_dedupe_lease_lost_total',
      'Handler runs that found their lease (dedupe record or claimed status record) lost, by a renewal or by their own compare-and-set write at the end: another copy may have run beside them.',
      ['service_name'],
    ),
    copiesDropped: counter(
      'ipc_messages_copies_dropped_total',
      'Copies of a message id whose deliveries ran out while another delivery held the id: dropped without a status or an ACK, the holder\'s outcome answers.',
      ['service_name'],
    ),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
