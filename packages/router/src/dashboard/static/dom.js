// DOM and formatting helpers of the dashboard. Everything from the API is inserted as text
// (never as HTML), so a service name or metadata value cannot inject markup.

/** Creates an element: h('td', { class: 'x', onclick: fn }, 'text', childNode, …). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces the content of `el` with `children`. */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
}

/** A grey one-line note for empty and unavailable states. */
export function note(text, kind = 'empty') {
  return h('p', { class: `note note-${kind}` }, text);
}

/** A coloured status pill; `value` picks the colour through CSS (`pill-ONLINE`, `pill-open`…). */
export function pill(value) {
  return h('span', { class: `pill pill-${String(value).replace(/[^A-Za-z0-9_-]/g, '')}` }, String(value).replace('_', ' '));
}

export function clock(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleTimeString([], { hour12: false });
}

export function ago(iso, now = Date.now()) {
  if (!iso) return '—';
  const s = (now - new Date(iso).getTime()) / 1000;
  if (!Number.isFinite(s)) return '—';
  if (s < 1) return 'now';
  if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

export function ms(value) {
  if (typeof value !== 'number') return '—';
  return value < 10 ? `${value.toFixed(2)} ms` : value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(2)} s`;
}

export function seconds(value) {
  if (typeof value !== 'number') return '—';
  return value < 60 ? `${value.toFixed(1)} s` : value < 3600 ? `${(value / 60).toFixed(1)} min` : `${(value / 3600).toFixed(1)} h`;
}

/** Shortens long ids for tables; the full value stays in the tooltip. */
export function short(id, keep = 12) {
  const text = String(id ?? '');
  return h('span', { class: 'mono', title: text }, text.length > keep + 1 ? `${text.slice(0, keep)}…` : text);
}
