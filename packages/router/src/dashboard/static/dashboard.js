// The dashboard's entry: polls the admin API every POLL_MS and redraws the panels. Polling (not
// SSE) keeps the router stateless per viewer and works through any proxy; each poll is a handful
// of in-memory reads on the router.
import { getJson, postJson } from './api.js';
import { clock, fill, note } from './dom.js';
import { renderHistory, renderServices } from './services-panel.js';
import { renderBreakers, renderDistribution, renderTraces } from './routing-panels.js';
import { lookup, renderDeadLetters, renderOutbox } from './messages-panels.js';

const POLL_MS = 1500;
const $ = (id) => document.getElementById(id);

const traceState = {
  expanded: undefined,
  last: undefined,
  toggle(key) {
    this.expanded = this.expanded === key ? undefined : key;
    if (this.last) renderTraces($('traces-body'), this.last, this);
  },
};

const sources = {
  health: '/health/instances?limit=60',
  distribution: '/routing/distribution',
  traces: '/traces?limit=15',
  breakers: '/breakers',
  dlq: '/messages/dlq',
  outbox: '/outbox/stats',
};

// Panels redraw only when their data changed, so scroll positions and hover states survive.
const previous = {};
function changed(name, result) {
  const key = JSON.stringify(result);
  if (previous[name] === key) return false;
  previous[name] = key;
  return true;
}

function showLookup(id) {
  $('lookup-input').value = id;
  void lookup($('lookup-body'), id);
}

async function poll() {
  const names = Object.keys(sources);
  const results = await Promise.all(names.map((n) => getJson(sources[n])));
  const r = Object.fromEntries(names.map((n, i) => [n, results[i]]));
  const reachable = r.health.kind === 'ok';
  $('live').className = reachable ? 'live ok' : 'live down';
  $('live-text').textContent = reachable ? `live · ${clock(new Date().toISOString())}` : `router unreachable — retrying (${r.health.message ?? r.health.kind})`;
  if (reachable) {
    const services = r.health.data.services ?? [];
    const instances = services.flatMap((s) => s.instances ?? []);
    const online = instances.filter((i) => i.status === 'ONLINE').length;
    $('summary').textContent = `${services.length} service${services.length === 1 ? '' : 's'} · ${online}/${instances.length} instances online`;
  }
  // Heartbeat ages move every second: the services table always redraws.
  renderServices($('services-body'), r.health);
  if (changed('history', r.health.kind === 'ok' ? r.health.data.history : r.health)) renderHistory($('history-body'), r.health);
  if (changed('distribution', r.distribution)) renderDistribution($('distribution-body'), r.distribution, $('strategy'));
  if (changed('traces', r.traces)) {
    traceState.last = r.traces;
    renderTraces($('traces-body'), r.traces, traceState);
  }
  if (changed('breakers', r.breakers)) renderBreakers($('breakers-body'), r.breakers);
  if (changed('dlq', r.dlq)) renderDeadLetters($('dlq-body'), r.dlq, showLookup);
  if (changed('outbox', r.outbox)) renderOutbox($('outbox-body'), r.outbox);
}

async function loop() {
  // One poll at a time: a slow router gets fewer requests, not a pile-up.
  if (!document.hidden) await poll().catch((err) => console.error('dashboard poll failed', err));
  setTimeout(() => void loop(), POLL_MS);
}

function start() {
  if (document.body.dataset.auth !== 'on') $('logout').hidden = true;
  $('lookup-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void lookup($('lookup-body'), $('lookup-input').value);
  });
  $('check-now').addEventListener('click', async () => {
    const button = $('check-now');
    button.disabled = true;
    const result = await postJson('/health/check');
    button.disabled = false;
    button.title = result.kind === 'ok' ? `checked ${result.data.results?.length ?? 0} instance(s) at ${clock(new Date().toISOString())}` : `check failed: ${result.message ?? result.kind}`;
    await poll();
  });
  fill($('lookup-body'), note('Enter a message id to see its state, or a trace id to see its routing decisions.'));
  void loop();
}

start();
