// Delivery: message status lookup, dead letters (GET /messages/{id}, /messages/dlq) and the
// outbox backlog (GET /outbox/stats, served when the router knows DATABASE_URL).
import { firstArray, getJson, postJson } from './api.js';
import { clock, fill, h, note, pill, seconds, short } from './dom.js';
import { decisions } from './routing-panels.js';

export function renderDeadLetters(el, result, lookup) {
  if (result.kind === 'unavailable') return fill(el, note('Not available on this router (dead-letter listing is not served by this version).', 'error'));
  if (result.kind !== 'ok') return fill(el, note(`Cannot read dead letters: ${result.message}`, 'error'));
  const letters = firstArray(result.data);
  if (letters.length === 0) return fill(el, note('No dead letter. Messages land here after their last retry fails.'));
  // Narrow card: the error sits under the call instead of in a column of its own.
  fill(el, h('table', { class: 'table fixed dlq' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Message'), h('th', {}, 'Call / last error'), h('th', { class: 'num' }, 'Tries'), h('th', { class: 'num' }, 'At'))),
    h('tbody', {}, letters.map((d) =>
      h('tr', { class: 'click', title: 'Look up this message', 'data-message': d.message_id, onclick: () => lookup(d.message_id) },
        h('td', {}, short(d.message_id, 8)),
        h('td', {},
          h('div', { class: 'ellipsis' }, h('span', { class: 'svc' }, d.service_name ?? '?'), h('span', { class: 'dim' }, d.method ? `.${d.method}` : '')),
          h('div', { class: 'ellipsis bad small-text', title: d.last_error ?? '' }, d.last_error ?? d.error?.message ?? ''),
        ),
        h('td', { class: 'num' }, String(d.deliveries ?? d.retry_count ?? '—')),
        h('td', { class: 'num dim' }, clock(d.dead_lettered_at ?? d.updated_at)),
      ),
    )),
  ));
}

export function renderOutbox(el, result) {
  if (result.kind === 'unavailable') return fill(el, note('Not available: start the router with DATABASE_URL pointing at the outbox database to show its backlog.', 'error'));
  if (result.kind !== 'ok') return fill(el, note(`Cannot read the outbox: ${result.message}`, 'error'));
  const s = result.data;
  const stat = (label, value, cls = '') => h('div', { class: `stat ${cls}` }, h('div', { class: 'stat-num' }, String(value)), h('div', { class: 'stat-label' }, label));
  fill(el, h('div', { class: 'stats' },
    stat('pending', s.pending, s.pending > 0 ? 'warn' : ''),
    stat('failed', s.failed, s.failed > 0 ? 'bad' : ''),
    stat('sent', s.sent),
    stat('oldest age', s.pending > 0 ? seconds(s.oldest_pending_age_seconds) : '—', s.oldest_pending_age_seconds > 60 ? 'bad' : ''),
  ));
}

/** Looks up a message id, or a trace id (32 hex), and shows what the router knows. */
export async function lookup(el, raw) {
  const id = raw.trim();
  if (id === '') return fill(el, note('Enter a message id (or a trace id).'));
  fill(el, note('Looking up…'));
  // A 32-hex id may be either: ask for both and show what exists.
  const [trace, message] = await Promise.all([
    /^[0-9a-f]{32}$/.test(id) ? getJson(`/traces/${id}`) : Promise.resolve(undefined),
    /^[A-Za-z0-9_-]{1,64}$/.test(id) ? getJson(`/messages/${encodeURIComponent(id)}`) : Promise.resolve({ kind: 'not_found', message: 'not a valid message id' }),
  ]);
  const parts = [];
  if (message.kind === 'ok') parts.push(messageStatus(el, message.data));
  if (trace?.kind === 'ok') parts.push(...trace.data.routes.map((r) => decisions(r)));
  if (parts.length > 0) return fill(el, parts);
  if (message.kind === 'unavailable') return fill(el, note('Message lookup is not available on this router.', 'error'));
  fill(el, note(message.kind === 'ok' ? '' : message.message, message.kind === 'not_found' ? 'empty' : 'error'));
}

function messageStatus(el, m) {
  const replay = async (event) => {
    event.target.disabled = true;
    const result = await postJson(`/messages/${encodeURIComponent(m.message_id)}/replay`);
    if (result.kind === 'ok') return lookup(el, m.message_id);
    event.target.disabled = false;
    event.target.title = result.message ?? result.kind;
  };
  return h('dl', { class: 'message' },
    h('dt', {}, 'Message'), h('dd', { class: 'mono' }, m.message_id),
    h('dt', {}, 'State'), h('dd', {}, pill(m.state), m.retry_count ? h('span', { class: 'dim' }, ` after ${m.retry_count} retr${m.retry_count === 1 ? 'y' : 'ies'}`) : null,
      m.state === 'FAILED' ? h('button', { type: 'button', class: 'small', title: 'Re-run it from its dead letter', onclick: replay }, 'Replay') : null),
    h('dt', {}, 'Call'), h('dd', {}, h('span', { class: 'svc' }, m.service_name), h('span', { class: 'dim' }, `.${m.method}`), m.instance_id ? h('span', { class: 'dim' }, ` on ${m.instance_id}`) : null),
    h('dt', {}, 'Trace'), h('dd', { class: 'mono' }, m.trace_id ?? '—'),
    h('dt', {}, 'Created'), h('dd', {}, `${clock(m.created_at)} · updated ${clock(m.updated_at)}`),
    m.last_error ? [h('dt', {}, 'Last error'), h('dd', { class: 'bad' }, m.last_error)] : null,
    m.dlq_seq ? [h('dt', {}, 'Dead letter'), h('dd', {}, `#${m.dlq_seq}${m.replays ? ` · replayed ${m.replays}×` : ''}`)] : null,
    m.response !== undefined ? [h('dt', {}, 'Response'), h('dd', {}, h('code', {}, clip(JSON.stringify(m.response), 300)))] : null,
  );
}

function clip(text, n) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}
