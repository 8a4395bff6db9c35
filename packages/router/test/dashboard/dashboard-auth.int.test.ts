/**
 * Admin auth on the dashboard over plain HTTP: redirects and 401s without credentials, the
 * /login exchange for an HttpOnly SameSite=Strict cookie, the cookie on the admin API (with the
 * CSRF header for writes), tampering, logout — and the optional outbox route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';

const TOKEN = `dash-${uniqueName('t')}`;
const harness = routerHarness();
let open: Router;
let guarded: Router;

beforeAll(async () => {
  open = await harness.start();
  guarded = await harness.start({ adminToken: TOKEN });
});
afterAll(() => harness.cleanup());

const req = (router: Router, path: string, init: RequestInit = {}) => fetch(`${router.url}${path}`, { redirect: 'manual', ...init });

async function login(token: string): Promise<Response> {
  return req(guarded, '/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString() });
}

async function sessionCookie(): Promise<string> {
  const res = await login(TOKEN);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

describe('dashboard without a token', () => {
  it('serves the page, its assets and security headers', async () => {
    const page = await req(open, '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    expect(html).toContain('data-auth="off"');
    const js = await req(open, '/dashboard/dashboard.js');
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect((await req(open, '/dashboard/dashboard.css')).status).toBe(200);
  });

  it('serves no file outside its asset list', async () => {
    expect((await req(open, '/dashboard/index.html')).status).toBe(404);
    expect((await req(open, '/dashboard/..%2Fdashboard-plugin.ts')).status).toBe(404);
    expect((await req(open, '/dashboard/nope.js')).status).toBe(404);
  });

  it('sends /login back to the page', async () => {
    const res = await req(open, '/login');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
  });

  it('has no outbox route unless DATABASE_URL is given', async () => {
    const res = await req(open, '/api/v1/admin/outbox/stats');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ message: expect.stringMatching(/^no route/) });
  });
});

describe('dashboard with AEGIS_ADMIN_TOKEN', () => {
  it('redirects the page to /login and answers 401 on the API without credentials', async () => {
    const page = await req(guarded, '/');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login');
    expect((await req(guarded, '/api/v1/admin/services')).status).toBe(401);
    const form = await req(guarded, '/login');
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('name="token"');
    // The login page needs its stylesheet before anyone has logged in.
    expect((await req(guarded, '/dashboard/dashboard.css')).status).toBe(200);
  });

  it('rejects a wrong token with 401 and no cookie', async () => {
    const res = await login('wrong');
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('Wrong token.');
    expect((await req(guarded, '/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' })).status).toBe(401);
  });

  it('exchanges the right token for an HttpOnly SameSite=Strict cookie', async () => {
    const res = await login(TOKEN);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^aegis_admin_session=\d+\.[\w-]+; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(TOKEN);
  });

  it('accepts the cookie on the page and on reads of the admin API', async () => {
    const cookie = await sessionCookie();
    const page = await req(guarded, '/', { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('data-auth="on"');
    expect((await req(guarded, '/api/v1/admin/services', { headers: { cookie } })).status).toBe(200);
    expect((await req(guarded, '/login', { headers: { cookie } })).headers.get('location')).toBe('/');
  });

  it('requires the dashboard header for writes with the cookie (CSRF)', async () => {
    const cookie = await sessionCookie();
    expect((await req(guarded, '/api/v1/admin/health/check', { method: 'POST', headers: { cookie } })).status).toBe(401);
    expect((await req(guarded, '/api/v1/admin/health/check', { method: 'POST', headers: { cookie, 'x-aegis-dashboard': '1' } })).status).toBe(200);
  });

  it('rejects a tampered or expired cookie', async () => {
    const cookie = await sessionCookie();
    const [name, value] = cookie.split('=') as [string, string];
    const [expires, mac] = value.split('.') as [string, string];
    const later = `${name}=${Number(expires) + 1000}.${mac}`;
    const past = `${name}=1000.${mac}`;
    const flipped = `${name}=${expires}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;
    for (const bad of [later, past, flipped, `${name}=garbage`]) {
      expect((await req(guarded, '/api/v1/admin/services', { headers: { cookie: bad } })).status).toBe(401);
    }
  });

  it('does not let a cookie from another token in', async () => {
    const other = await harness.start({ adminToken: `${TOKEN}-other` });
    const cookie = await sessionCookie();
    expect((await req(other, '/api/v1/admin/services', { headers: { cookie } })).status).toBe(401);
  });

  it('still accepts the bearer header, and logout clears the cookie', async () => {
    expect((await req(guarded, '/api/v1/admin/services', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const res = await req(guarded, '/logout', { method: 'POST' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
    expect(res.headers.get('set-cookie')).toMatch(/^aegis_admin_session=; Max-Age=0;/);
  });
});
