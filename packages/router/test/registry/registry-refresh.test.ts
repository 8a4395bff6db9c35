import { describe, expect, it } from 'vitest';
import { AegisError } from '@aegis-ipc/protocol';
import { checkDeclaredHeartbeatInterval, maxHeartbeatIntervalMs, registryRefreshAgeMs } from '../../src/registry/registry-refresh.js';
import { resolveRouterSettings } from '../../src/config/router-settings.js';

describe('heartbeat intervals the registry can keep alive (ADR 0007)', () => {
  it('refreshes an entry at half the TTL, so intervals must stay under that', () => {
    expect(registryRefreshAgeMs(60_000)).toBe(30_000);
    expect(maxHeartbeatIntervalMs(60_000)).toBe(29_999);
    expect(maxHeartbeatIntervalMs(60_001)).toBe(30_000); // 30 000 < 30 000.5
  });

  it('accepts no declaration and intervals under the limit', () => {
    expect(() => checkDeclaredHeartbeatInterval(undefined, 60_000)).not.toThrow();
    expect(() => checkDeclaredHeartbeatInterval(29_999, 60_000)).not.toThrow();
  });

  it('refuses half the TTL or more as VALIDATION_FAILED naming the field and the limit', () => {
    let error: unknown;
    try {
      checkDeclaredHeartbeatInterval(30_000, 60_000);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AegisError);
    const e = error as AegisError<'VALIDATION_FAILED'>;
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.status).toBe(400);
    expect(e.details?.fields).toEqual([{ path: '/heartbeat_interval_ms', message: expect.stringContaining('must be <= 29999') }]);
    expect(e.message).toContain('/heartbeat_interval_ms: must be <= 29999');
  });

  it("refuses a router whose own interval the registry could not keep alive", () => {
    const env = {};
    expect(() => resolveRouterSettings({ registryTtlMs: 60_000, heartbeatIntervalMs: 30_000, heartbeatTimeoutMs: 90_000 }, env)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { env: 'AEGIS_HEARTBEAT_INTERVAL_MS' } }),
    );
    expect(resolveRouterSettings({ registryTtlMs: 60_000, heartbeatIntervalMs: 29_999, heartbeatTimeoutMs: 90_000 }, env).heartbeatIntervalMs).toBe(29_999);
  });
});
