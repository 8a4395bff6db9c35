import { Counter, Gauge, Histogram, Registry as PromRegistry, Summary } from 'prom-client';
import { Registry as RouterRegistry } from '@aegis-ipc/router';
import { RouterMetrics } from '../packages/router/src/metrics/router-metrics.js';
import { eventMetrics, reliableMetrics } from '@aegis-ipc/sdk';
import { createRelayMetrics } from '../packages/outbox/src/relay/relay-metrics.js';

/** Which component owns which metrics, and where they are exposed. */
function owners(): Array<{ owner: string; where: string; registry: PromRegistry }> {
  const routing = new RouterMetrics(new RouterRegistry());
  const events = new PromRegistry();
  eventMetrics(events);
  const reliable = new PromRegistry();
  reliableMetrics(reliable);
  // The relay's backlog gauges query the database only when scraped; listing them needs no database.
  const relay = createRelayMetrics({ query: () => Promise.reject(new Error('not scraped')) } as never, { relay_id: 'doc' });
  return [
    { owner: 'Router', where: 'router `/metrics` (per replica: sum over replicas)', registry: routing.registry },
    { owner: 'Exactly-once calls', where: 'the process that calls or serves `callReliable`, on the registry passed in: the caller\'s counters on `connect({ registry })`, the receiver\'s on `ReliableReceiver.start(instance, { registry })` (default prom-client global)', registry: reliable },
    { owner: 'Events', where: 'the process that publishes/subscribes (`events.registry`, else `connect({ registry })`, default prom-client global)', registry: events },
    { owner: 'Outbox relay', where: 'relay `/metrics` (`RELAY_METRICS_PORT`, default 9465); label `relay_id`', registry: relay.registry },
  ];
}

/** The Prometheus type (by prom-client base class: subclasses such as FoldedCounter are counters). */
function typeOf(metric: object): string {
  if (metric instanceof Counter) return 'counter';
  if (metric instanceof Gauge) return 'gauge';
  if (metric instanceof Histogram) return 'histogram';
  if (metric instanceof Summary) return 'summary';
  return metric.constructor.name.toLowerCase();
}

/** Renders docs/metrics.md from the metric definitions themselves. */
export function renderMetricsDoc(): string {
  const sections = owners().map(({ owner, where, registry }) => {
    const rows = registry
      .getMetricsAsArray()
      .filter((m) => !m.name.includes('_process_'))
      .map((m) => {
        const labels = ((m as unknown as { labelNames?: string[] }).labelNames ?? []).map((l) => `\`${l}\``).join(', ');
        return `| \`${m.name}\` | ${typeOf(m)} | ${labels || '—'} | ${m.help} |`;
      });
    return `## ${owner}\n\nExposed by ${where}.\n\n| metric | type | labels | meaning |\n|---|---|---|---|\n${rows.join('\n')}\n`;
  });
  return `# Metrics

Generated from the metric definitions by \`npm run docs:metrics\`; a unit test fails when this file
and the code disagree. Prometheus text format; \`promtool check metrics\` passes on the router's
\`/metrics\` (tested). Counter families follow the OpenMetrics convention: SPEC's family name plus
\`_total\` on the sample (SPEC \`ipc_router_loadbalancer_selections\` is
\`ipc_router_loadbalancer_selections_total\`, \`ipc_instance_state_transitions\` is
\`ipc_instance_state_transitions_total\`). The router also exports Node.js process metrics with
the prefix \`ipc_router_process_\`. Series with an \`instance_id\` label are removed when the
instance is retired (\`OFFLINE\` or \`UNHEALTHY\` for longer than \`AEGIS_INSTANCE_RETENTION_MS\`,
ADR 0008), so they follow the live instances rather than every id ever seen. Alert rules:
\`ops/prometheus/aegis-alerts.rules.yml\`; Grafana dashboard: \`ops/grafana/aegis-ipc.json\`.

${sections.join('\n')}`;
}
