/**
 * Prometheus metrics of the event bus, per transport/topic/group, on the caller's registry.
 * Counters move on the hot path through `bind()` (FoldedCounter): a bound incrementer sums
 * locally and is added to the prom-client counter when it is collected (a prom-client child's
 * `inc()` hashes and validates its label object on every call). `pending` and `consumer lag` are read from the
 * broker only when Prometheus scrapes (the gauges' `collect`), so they cost nothing between scrapes.
 */
import { Gauge, register as globalRegistry, type Registry } from 'prom-client';
import { FoldedCounter, type BoundCounter } from '../metrics/folded-counter.js';
import type { DeliveryInterceptor } from './delivery.js';
import type { TopicGroupStats } from './types.js';

const LABELS = ['transport', 'topic', 'group'] as const;

/** The metric set one bus uses; several buses on one registry share it. */
export interface EventMetrics {
  readonly published: FoldedCounter<'transport' | 'topic' | 'qos'>;
  readonly delivered: FoldedCounter<(typeof LABELS)[number]>;
  readonly redelivered: FoldedCounter<(typeof LABELS)[number]>;
  readonly acked: FoldedCounter<(typeof LABELS)[number]>;
  readonly duplicates: FoldedCounter<(typeof LABELS)[number]>;
  readonly retried: FoldedCounter<(typeof LABELS)[number]>;
  readonly deadLettered: FoldedCounter<(typeof LABELS)[number]>;
  readonly leaseLost: FoldedCounter<(typeof LABELS)[number]>;
  /** Adds a source of pending/lag figures (a bus), removed with the returned function. */
  addStatsSource(source: () => Promise<readonly TopicGroupStats[]>): () => void;
}

const sourcesByRegistry = new WeakMap<Registry, Set<() => Promise<readonly TopicGroupStats[]>>>();
const metricsByRegistry = new WeakMap<Registry, EventMetrics>();

/** Returns the event metrics registered on `registry` (created once per registry). */
export function eventMetrics(registry: Registry = globalRegistry): EventMetrics {
  const existing = metricsByRegistry.get(registry);
  if (existing !== undefined) return existing;
  const sources = new Set<() => Promise<readonly TopicGroupStats[]>>();
  sourcesByRegistry.set(registry, sources);
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new FoldedCounter<L>({ name, help, labelNames, registers: [registry] });
  const statsGauge = (name: string, help: string, pick: (s: TopicGroupStats) => number) =>
    new Gauge({
      name,
      help,
      labelNames: LABELS,
      registers: [registry],
      async collect() {
        this.reset();
        for (const source of sources) {
          for (const s of await source().catch(() => [])) this.set({ transport: s.transport, topic: s.topic, group: s.group }, pick(s));
        }
      },
    });
  statsGauge('aegis_events_pending', 'Messages delivered to a group and not acknowledged yet.', (s) => s.pending);
  statsGauge('aegis_events_consumer_lag', 'Messages in the stream not yet delivered to the group.', (s) => s.lag);
  const metrics: EventMetrics = {
    published: counter('aegis_events_published_total', 'Events accepted by the broker.', ['transport', 'topic', 'qos']),
    delivered: counter('aegis_events_delivered_total', 'Deliveries to a handler pipeline.', LABELS),
    redelivered: counter('aegis_events_redelivered_total', 'Deliveries with a delivery count above 1.', LABELS),
    acked: counter('aegis_events_acked_total', 'Messages acknowledged after the handler succeeded.', LABELS),
    duplicates: counter('aegis_events_duplicates_total', 'QoS 2 duplicates acknowledged without calling the handler.', LABELS),
    retried: counter('aegis_events_retried_total', 'Failed attempts scheduled for redelivery.', LABELS),
    deadLettered: counter('aegis_events_dead_lettered_total', 'Messages parked in the dead-letter stream.', LABELS),
    leaseLost: counter(
      'aegis_events_dedupe_lease_lost_total',
      'QoS 2 runs that found their dedupe lease lost while the handler ran (a renewal or a late claim found another holder, a completion or a lapsed lease): another copy may have run beside them.',
      LABELS,
    ),
    addStatsSource(source) {
      sources.add(source);
      return () => sources.delete(source);
    },
  };
  metricsByRegistry.set(registry, metrics);
  return metrics;
}

/** Counts deliveries and their final outcome; the outermost interceptor of one subscription. */
export function metricsInterceptor(metrics: EventMetrics): DeliveryInterceptor {
  // One subscription has one topic and group: bind the label set once, not per message.
  let bound: Record<'delivered' | 'redelivered' | 'acked' | 'duplicates' | 'retried' | 'deadLettered', BoundCounter> | undefined;
  return async (delivery, next) => {
    if (bound === undefined) {
      const labels = { transport: delivery.transport, topic: delivery.topic, group: delivery.group };
      bound = {
        delivered: metrics.delivered.bind(labels),
        redelivered: metrics.redelivered.bind(labels),
        acked: metrics.acked.bind(labels),
        duplicates: metrics.duplicates.bind(labels),
        retried: metrics.retried.bind(labels),
        deadLettered: metrics.deadLettered.bind(labels),
      };
    }
    const m = bound;
    m.delivered.inc();
    if (delivery.deliveryCount > 1) m.redelivered.inc();
    const outcome = await next(delivery);
    if (outcome.type === 'ack') (outcome.duplicate === true ? m.duplicates : m.acked).inc();
    else if (outcome.type === 'dead-letter') m.deadLettered.inc();
    else m.retried.inc();
    return outcome;
  };
}
