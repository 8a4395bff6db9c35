// Routing diagnostics: selections per instance (bars), recent routed calls with their decisions,
// and circuit breakers (GET /routing/distribution, /traces, /traces/{id}, /breakers).
import { clock, fill, h, ms, note, pill, short } from './dom.js';
import { IMBALANCE_THRESHOLD, loadImbalance } from './load-imbalance.js';

const UNAVAILABLE = 'Not available on this router (the routing routes are not served by this version).';

export function renderDistribution(el, result, strategyEl) {
  if (result.kind !== 'ok') return fill(el, note(result.kind === 'unavailable' ? UNAVAILABLE : `Cannot read distribution: ${result.message}`, 'error'));
  const { strategy, services = {}, quarantined = [] } = result.data;
  if (strategyEl) strategyEl.textContent = strategy ? strategy.replace('_', '-') : '';
  const names = Object.keys(services).sort();
  if (names.length === 0) return fill(el, note('No routed call yet: bars appear once callers route through this router.'));
  const blocks = names.map((name) => {
    const counts = Object.entries(services[name]).sort(([a], [b]) => a.localeCompare(b));
    const total = counts.reduce((n, [, c]) => n + c, 0);
    const max = Math.max(...counts.map(([, c]) => c), 1);
    // The load-imbalance alert's measure, (max − min) / mean, over this router's calls since it started.
    const imbalance = loadImbalance(counts.map(([, c]) => c));
    return h('div', { class: 'dist', 'data-service': name },
      h('div', { class: 'dist-head' },
        h('span', { class: 'svc' }, name),
        h('span', { class: 'dim' }, `${total} call${total === 1 ? '' : 's'} · `),
        h('span', { class: imbalance > IMBALANCE_THRESHOLD && total >= 20 ? 'warn' : 'dim' }, `imbalance ${(imbalance * 100).toFixed(0)} %`),
      ),
      counts.map(([instance, count]) =>
        h('div', { class: 'bar-row' },
          short(instance, 22),
          h('div', { class: 'bar' }, h('div', { class: 'bar-fill', style: { width: `${(count / max) * 100}%` } })),
          h('span', { class: 'bar-num' }, `${count} · ${total ? ((count / total) * 100).toFixed(0) : 0} %`),
        ),
      ),
    );
  });
  const q = quarantined.length > 0
    ? h('p', { class: 'note note-warn' }, `Quarantined after timeouts: ${quarantined.map((x) => `${x.instance_id} until ${clock(x.until)}`).join(', ')}`)
    : null;
  fill(el, blocks, q);
}

export function renderBreakers(el, result) {
  if (result.kind !== 'ok') return fill(el, note(result.kind === 'unavailable' ? UNAVAILABLE : `Cannot read breakers: ${result.message}`, 'error'));
  const breakers = result.data.breakers ?? [];
  if (breakers.length === 0) return fill(el, note('All closed: no service has had a failure.'));
  fill(el, h('table', { class: 'table' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Service'), h('th', {}, 'State'), h('th', {}, 'Opened'), h('th', {}, 'Failed instances'))),
    h('tbody', {}, breakers.map((b) =>
      h('tr', {},
        h('td', { class: 'svc' }, b.service_name),
        h('td', {}, pill(b.state), b.state === 'open' && b.retry_after_ms > 0 ? h('span', { class: 'dim' }, ` probe in ${ms(b.retry_after_ms)}`) : null),
        h('td', { class: 'dim' }, `${b.times_opened}×${b.opened_at ? ` · ${clock(b.opened_at)}` : ''}`),
        h('td', { class: 'dim mono' }, (b.failed_instances ?? []).join(', ') || '—'),
      ),
    )),
  ));
}

/** Recent routed calls; a click expands the call's decisions in place (kept across refreshes). */
export function renderTraces(el, result, state) {
  if (result.kind !== 'ok') return fill(el, note(result.kind === 'unavailable' ? UNAVAILABLE : `Cannot read traces: ${result.message}`, 'error'));
  const routes = result.data.routes ?? [];
  if (routes.length === 0) return fill(el, note('No routed call yet.'));
  const rows = [];
  for (const r of routes) {
    const key = `${r.trace_id}:${r.received_at}`;
    const open = state.expanded === key;
    rows.push(
      h('tr', { class: `click${open ? ' open' : ''}`, 'data-trace': r.trace_id, onclick: () => state.toggle(key) },
        h('td', {}, clock(r.received_at)),
        h('td', {}, short(r.trace_id, 10)),
        h('td', {}, h('span', { class: 'svc' }, r.service_name), h('span', { class: 'dim' }, `.${r.method}`)),
        h('td', {}, pill(r.outcome)),
        h('td', { class: 'mono' }, r.instance_id ?? '—'),
        h('td', { class: 'num' }, String(r.attempts?.length ?? 0)),
        h('td', { class: 'num' }, ms(r.duration_ms)),
      ),
    );
    if (open) rows.push(h('tr', { class: 'detail' }, h('td', { colspan: 7 }, decisions(r))));
  }
  fill(el, h('table', { class: 'table' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Time'), h('th', {}, 'Trace'), h('th', {}, 'Call'), h('th', {}, 'Outcome'), h('th', {}, 'Instance'), h('th', { class: 'num' }, 'Tries'), h('th', { class: 'num' }, 'Duration'))),
    h('tbody', {}, rows),
  ));
}

/** The routing decisions of one call: what was considered, chosen and tried. */
export function decisions(r) {
  return h('div', { class: 'decisions' },
    h('dl', {},
      h('dt', {}, 'Trace id'), h('dd', { class: 'mono' }, r.trace_id),
      // Lookups by trace id gather every replica's routes; this says whose ring held this one.
      h('dt', {}, 'Router'), h('dd', { class: 'mono' }, r.router_id ?? '—'),
      h('dt', {}, 'Strategy'), h('dd', {}, `${r.strategy} · hop ${r.hops}${r.path?.length ? ` · path ${r.path.join(' → ')}` : ''}`),
      h('dt', {}, 'Considered'), h('dd', { class: 'mono' }, (r.instances_considered ?? []).join(', ') || 'none (no healthy instance)'),
      h('dt', {}, 'Result'), h('dd', {}, pill(r.outcome), r.error_code ? h('span', { class: 'mono' }, ` ${r.error_code}`) : null, ` in ${ms(r.duration_ms)}`),
    ),
    h('table', { class: 'table inner' },
      h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Instance'), h('th', {}, 'Outcome'), h('th', {}, 'Error'), h('th', { class: 'num' }, 'Took'), h('th', { class: 'num' }, 'Timeout'))),
      h('tbody', {}, (r.attempts ?? []).map((a) =>
        h('tr', {},
          h('td', {}, String(a.attempt)),
          h('td', { class: 'mono' }, a.instance_id),
          h('td', {}, pill(a.outcome)),
          h('td', { class: 'mono dim' }, a.error_type ?? ''),
          h('td', { class: 'num' }, ms(a.duration_ms)),
          h('td', { class: 'num dim' }, ms(a.timeout_ms)),
        ),
      )),
    ),
  );
}
