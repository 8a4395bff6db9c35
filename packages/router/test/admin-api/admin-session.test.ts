import { describe, expect, it } from 'vitest';
import { AdminSession, sessionCookie } from '../../src/admin-api/admin-session.js';

describe('AdminSession', () => {
  const session = new AdminSession('s3cret-token', 60_000);

  it('verifies what it issued until it expires', () => {
    const { value, maxAgeSeconds } = session.issue(1_000_000);
    expect(maxAgeSeconds).toBe(60);
    expect(value).toMatch(/^1060000\.[\w-]{43}$/);
    expect(session.verify(value, 1_059_999)).toBe(true);
    expect(session.verify(value, 1_060_000)).toBe(false);
  });

  it('rejects another token, a moved expiry, a changed MAC and garbage', () => {
    const { value } = session.issue(1_000_000);
    const [expires, mac] = value.split('.') as [string, string];
    expect(new AdminSession('other-token', 60_000).verify(value, 1_000_001)).toBe(false);
    expect(session.verify(`${Number(expires) + 1}.${mac}`, 1_000_001)).toBe(false);
    expect(session.verify(`${expires}.${mac.slice(1)}`, 1_000_001)).toBe(false);
    for (const bad of ['', '.', 'abc', `${expires}.`, `.${mac}`, `-1.${mac}`, `1e20.${mac}`]) expect(session.verify(bad, 0)).toBe(false);
  });

  it('never puts the token in the cookie', () => {
    expect(session.issue().value).not.toContain('s3cret');
    expect(sessionCookie('v', 10, true)).toBe('aegis_admin_session=v; Max-Age=10; Path=/; HttpOnly; SameSite=Strict; Secure');
  });
});
