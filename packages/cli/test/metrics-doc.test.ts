import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderMetricsDoc } from '../../../scripts/render-metrics-doc.js';

describe('docs/metrics.md', () => {
  it('matches the metric definitions (regenerate with `npm run docs:metrics`)', () => {
    const onDisk = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(renderMetricsDoc());
  });

  it('documents every metric SPEC OBS-1 names', () => {
    const doc = renderMetricsDoc();
    for (const name of [
      'ipc_router_requests_total', 'ipc_router_request_duration_seconds', 'ipc_router_active_instances', 'ipc_router_unhealthy_instances',
      'ipc_router_loadbalancer_selections_total', 'ipc_healthcheck_failures_total', 'ipc_instance_state_transitions_total', 'ipc_router_errors_total',
      'ipc_router_retries_total', 'ipc_router_circuit_breaker_state', 'ipc_messages_sent_total', 'ipc_messages_acknowledged_total',
      'ipc_messages_retried_total', 'ipc_messages_duplicates_total', 'ipc_message_processing_duration_seconds', 'ipc_acknowledgment_timeout_total',
      'ipc_outbox_pending', 'ipc_outbox_sent_total', 'ipc_outbox_failed', 'ipc_outbox_lag_seconds',
    ]) {
      expect(doc, name).toContain(`| \`${name}\` |`);
    }
  });
});
