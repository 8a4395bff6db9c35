// Services with their instances and live health, and the recent state changes (registry view
// of GET /health/instances).
import { ago, clock, fill, h, note, pill } from './dom.js';

const STATUS_ORDER = { ONLINE: 0, UNHEALTHY: 1, OFFLINE: 2 };

export function renderServices(el, result) {
  if (result.kind !== 'ok') return fill(el, note(result.kind === 'unavailable' ? 'Not available on this router.' : `Cannot read services: ${result.message}`, 'error'));
  const services = result.data.services ?? [];
  if (services.length === 0) return fill(el, note('No service registered yet. Instances appear here as soon as they call register().'));
  const now = Date.now();
  const rows = [];
  for (const service of [...services].sort((a, b) => a.service_name.localeCompare(b.service_name))) {
    const c = service.counts ?? {};
    rows.push(
      h('tr', { class: 'group' },
        h('th', { colspan: 6 },
          h('span', { class: 'svc' }, service.service_name),
          h('span', { class: 'counts' },
            h('span', { class: 'count count-ONLINE' }, `${c.ONLINE ?? 0} online`),
            c.UNHEALTHY ? h('span', { class: 'count count-UNHEALTHY' }, `${c.UNHEALTHY} unhealthy`) : null,
            c.OFFLINE ? h('span', { class: 'count count-OFFLINE' }, `${c.OFFLINE} offline`) : null,
          ),
        ),
      ),
    );
    const instances = [...(service.instances ?? [])].sort((a, b) => (STATUS_ORDER[a.status] ?? 3) - (STATUS_ORDER[b.status] ?? 3) || a.instance_id.localeCompare(b.instance_id));
    for (const i of instances) {
      rows.push(
        h('tr', { 'data-instance': i.instance_id, 'data-status': i.status },
          h('td', {}, pill(i.status)),
          h('td', { class: 'mono' }, i.instance_id),
          h('td', { title: i.registered_at }, clock(i.registered_at)),
          h('td', { title: i.updated_at }, ago(i.updated_at, now)),
          h('td', { class: 'dim' }, i.status_reason ?? ''),
          h('td', { class: 'dim meta' }, metadata(i.metadata)),
        ),
      );
    }
  }
  fill(el, h('table', { class: 'table' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Status'), h('th', {}, 'Instance'), h('th', {}, 'Registered'), h('th', {}, 'Status since'), h('th', {}, 'Reason'), h('th', {}, 'Metadata'))),
    h('tbody', {}, rows),
  ));
}

export function renderHistory(el, result) {
  if (result.kind !== 'ok') return fill(el, note(result.kind === 'unavailable' ? 'Not available on this router.' : `Cannot read history: ${result.message}`, 'error'));
  const history = [...(result.data.history ?? [])].reverse();
  if (history.length === 0) return fill(el, note('No state change yet.'));
  fill(el, h('ol', { class: 'timeline' },
    history.map((c) =>
      h('li', { title: `${c.service_name} · ${c.at}` },
        h('span', { class: 'time' }, clock(c.at)),
        h('span', { class: 'who mono' }, c.instance_id),
        h('span', { class: 'change' }, c.from ? pill(c.from) : h('span', { class: 'dim' }, 'new'), ' → ', pill(c.to), h('span', { class: 'dim reason' }, ` ${c.reason ?? ''}`)),
      ),
    ),
  ));
}

function metadata(meta) {
  if (!meta || typeof meta !== 'object') return '';
  const text = Object.entries(meta).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}
