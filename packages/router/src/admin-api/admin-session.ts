/**
 * Browser sessions for the admin surface (the dashboard at `/`). A browser cannot send a bearer
 * header when it navigates, so the token is typed once into `/login` and exchanged for an
 * HttpOnly, SameSite=Strict cookie that the auth hook accepts in place of the header.
 *
 * The cookie is stateless — `<expiry>.<HMAC(token, expiry)>` — so every router replica that
 * shares AEGIS_ADMIN_TOKEN accepts it, a restart keeps it valid, rotating the token revokes every
 * session at once, and the token itself never sits in the browser.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'aegis_admin_session';

/** How long a dashboard login lasts. @default 12 h */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/**
 * Header the dashboard sends with state-changing requests. SameSite=Strict already keeps the
 * cookie off cross-site requests; a custom header, which no cross-site form can set without a
 * CORS preflight, guards the browsers that ignore SameSite.
 */
export const SESSION_CSRF_HEADER = 'x-aegis-dashboard';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class AdminSession {
  readonly #key: Buffer;
  readonly #ttlMs: number;

  constructor(token: string, ttlMs = SESSION_TTL_MS) {
    // A derived key, so the MAC never doubles as a hash of the bare token.
    this.#key = createHmac('sha256', token).update('aegis-admin-session-v1').digest();
    this.#ttlMs = ttlMs;
  }

  /** A fresh cookie value valid for the session TTL. */
  issue(now = Date.now()): { value: string; maxAgeSeconds: number } {
    const expires = String(now + this.#ttlMs);
    return { value: `${expires}.${this.#mac(expires)}`, maxAgeSeconds: Math.floor(this.#ttlMs / 1000) };
  }

  /** True when `value` was issued with this token and has not expired. Constant time in the MAC. */
  verify(value: string, now = Date.now()): boolean {
    const dot = value.indexOf('.');
    if (dot <= 0) return false;
    const expires = value.slice(0, dot);
    if (!/^\d{1,16}$/.test(expires) || Number(expires) <= now) return false;
    const given = Buffer.from(value.slice(dot + 1));
    const expected = Buffer.from(this.#mac(expires));
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** True when the request carries a valid session cookie (and the CSRF header if it changes state). */
  accepts(request: FastifyRequest): boolean {
    const value = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (value === undefined || !this.verify(value)) return false;
    return SAFE_METHODS.has(request.method) || request.headers[SESSION_CSRF_HEADER] !== undefined;
  }

  #mac(expires: string): string {
    return createHmac('sha256', this.#key).update(expires).digest('base64url');
  }
}

/** The `Set-Cookie` value of a session (or of its removal with `maxAgeSeconds: 0`). */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Max-Age=${maxAgeSeconds}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
