/**
 * The Grafana dashboard (ops/grafana/aegis-ipc.json) cannot drift from the code: every metric a
 * panel queries must be declared somewhere in packages/src, every query must parse as PromQL
 * (promtool, when installed), and the import contract (`${DS_PROMETHEUS}` input) must hold.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const DASHBOARD = join(ROOT, 'ops/grafana/aegis-ipc.json');
const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));

interface Target { expr: string; refId: string }
interface Panel { id: number; type: string; title: string; datasource?: { uid: string }; targets?: Target[]; gridPos: { x: number; y: number; w: number; h: number } }
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { __inputs: Array<{ name: string; pluginId: string }>; uid: string; panels: Panel[] };
const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');
const exprs = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** Every `ipc_…`/`aegis_…` string literal in the packages' sources: the metric names that exist. */
function declaredMetricNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) for (const m of readFileSync(path, 'utf8').matchAll(/['"`]((?:ipc|aegis)_[a-z0-9_]+)['"`]/g)) names.add(m[1]!);
    }
  };
  for (const pkg of readdirSync(join(ROOT, 'packages'))) {
    const src = join(ROOT, 'packages', pkg, 'src');
    if (existsSync(src)) walk(src);
  }
  return names;
}

/** Metric names a query reads (recording-rule names contain `:` and are not matched). */
function metricsIn(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\b((?:ipc|aegis)_[a-z0-9_]+)\b/g)].map((m) => m[1]!))];
}

describe('Grafana dashboard ops/grafana/aegis-ipc.json', () => {
  it('imports with a Prometheus datasource input used by every panel', () => {
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', pluginId: 'prometheus' })]);
    expect(dashboard.uid).toBe('aegis-ipc');
    for (const panel of queryPanels) {
      expect(panel.datasource?.uid, panel.title).toBe('${DS_PROMETHEUS}');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
  });

  it('lays panels out on the 24-column grid without overlaps', () => {
    const cells = new Set<string>();
    for (const { title, gridPos: g } of dashboard.panels) {
      expect(g.x + g.w, title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('queries only metrics the code declares', () => {
    const declared = declaredMetricNames();
    // Histograms are queried through their series (`_bucket`, `_sum`, `_count`).
    const known = (name: string) => declared.has(name) || declared.has(name.replace(/_(bucket|sum|count)$/, ''));
    const unknown = exprs.flatMap(({ panel, expr }) => metricsIn(expr).filter((m) => !known(m)).map((m) => `${panel}: ${m}`));
    expect(unknown).toEqual([]);
  });

  it('covers health, latency, rate, errors, distribution, breakers, messages, outbox and events', () => {
    const used = new Set(exprs.flatMap(({ expr }) => metricsIn(expr)));
    for (const name of [
      'ipc_router_active_instances',
      'ipc_router_unhealthy_instances',
      'ipc_router_request_duration_seconds_bucket',
      'ipc_router_requests_total',
      'ipc_router_errors_total',
      'ipc_router_loadbalancer_selections_total',
      'ipc_router_circuit_breaker_state',
      'ipc_messages_sent_total',
      'ipc_messages_acknowledged_total',
      'ipc_outbox_pending',
      'aegis_events_published_total',
    ]) {
      expect(used, name).toContain(name);
    }
  });

  it.skipIf(PROMTOOL === undefined)('has queries that parse as PromQL (promtool check rules)', async () => {
    // Grafana's variables replaced by values of the same type, one recording rule per query.
    const concrete = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h').replaceAll('$service', '.*');
    const rules = ['groups:', '  - name: grafana-dashboard-queries', '    rules:'];
    exprs.forEach(({ expr }, i) => rules.push(`      - record: dashboard:query_${i}`, `        expr: ${JSON.stringify(concrete(expr))}`));
    const dir = mkdtempSync(join(tmpdir(), 'aegis-grafana-'));
    try {
      writeFileSync(join(dir, 'queries.yml'), `${rules.join('\n')}\n`);
      const { stdout } = await promisify(execFile)(PROMTOOL!, ['check', 'rules', join(dir, 'queries.yml')]);
      expect(stdout).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
