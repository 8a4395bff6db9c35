// Reads the admin API with the session cookie. Results are tagged so every panel can tell
// "no data" from "this router does not serve that route" from "the call failed".

export const ADMIN = '/api/v1/admin';

/**
 * @returns {Promise<{ kind: 'ok', data: any } | { kind: 'unavailable' } | { kind: 'not_found', message: string } | { kind: 'error', message: string }>}
 */
export async function getJson(path, init = {}) {
  let res;
  try {
    res = await fetch(`${ADMIN}${path}`, { credentials: 'same-origin', cache: 'no-store', ...init, headers: { accept: 'application/json', ...(init.headers ?? {}) } });
  } catch {
    return { kind: 'error', message: 'router unreachable' };
  }
  if (res.status === 401) {
    // The session expired or the token was rotated: log in again.
    window.location.assign('/login');
    return { kind: 'error', message: 'not logged in' };
  }
  const body = await res.json().catch(() => null);
  if (res.ok) return { kind: 'ok', data: body };
  const message = body && typeof body.message === 'string' ? body.message : `HTTP ${res.status}`;
  // The router's not-found handler answers "no route …" for routes it does not serve (a feature
  // that has not landed on this version); any other 404 is about the thing looked up.
  if (res.status === 404) return message.startsWith('no route') ? { kind: 'unavailable' } : { kind: 'not_found', message };
  return { kind: 'error', message };
}

/** POSTs with the header that proves the request comes from the dashboard (see admin-session.ts). */
export function postJson(path) {
  return getJson(path, { method: 'POST', headers: { 'x-aegis-dashboard': '1' } });
}

/** The first array in a response body, whatever its key (`dead_letters`, `messages`, …). */
export function firstArray(body) {
  if (Array.isArray(body)) return body;
  if (body && typeof body === 'object') for (const value of Object.values(body)) if (Array.isArray(value)) return value;
  return [];
}
