import { describe, expect, it } from 'vitest';
import { resolveRouterSettings } from '../../src/config/router-settings.js';
import { msInStatus, pastRetention, retirementSweepMs } from '../../src/health/instance-retirement.js';
import { Liveness } from '../../src/health/liveness.js';

const T0 = Date.parse('2026-11-23T06:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

describe('retiring dead instances (ADR 0008)', () => {
  it('is due only for OFFLINE and UNHEALTHY records older than the retention, by updated_at', () => {
    expect(pastRetention({ status: 'OFFLINE', updated_at: at(0) }, T0 + 1_001, 1_000)).toBe(true);
    expect(pastRetention({ status: 'UNHEALTHY', updated_at: at(0) }, T0 + 1_001, 1_000)).toBe(true);
    expect(pastRetention({ status: 'OFFLINE', updated_at: at(0) }, T0 + 1_000, 1_000)).toBe(false);
    expect(pastRetention({ status: 'ONLINE', updated_at: at(0) }, T0 + 10_000_000, 1_000)).toBe(false);
    expect(msInStatus({ updated_at: at(0) }, T0 + 2_500)).toBe(2_500);
  });

  it('sweeps at a quarter of the retention, within 250 ms and 30 s', () => {
    expect(retirementSweepMs(1_000)).toBe(250);
    expect(retirementSweepMs(60_000)).toBe(15_000);
    expect(retirementSweepMs(600_000)).toBe(30_000);
  });

  it('holds back while this replica heard the same session within its timeout, or started too recently to have', () => {
    const liveness = new Liveness({ heartbeatIntervalMs: 1_000, heartbeatTimeoutMs: 3_000 }, T0);
    const record = { instance_id: 'a', session_id: 's1', updated_at: at(0), heartbeat_interval_ms: 1_000 };
    expect(liveness.heardFrom(record, T0 + 3_000)).toBe(true); // start grace
    expect(liveness.heardFrom(record, T0 + 3_001)).toBe(false);
    liveness.saw('a', 's1', T0 + 10_000);
    expect(liveness.heardFrom(record, T0 + 13_000)).toBe(true);
    expect(liveness.heardFrom(record, T0 + 13_001)).toBe(false);
    // Another process beating under the id does not keep the old session's record.
    liveness.saw('a', 's2', T0 + 20_000);
    expect(liveness.heardFrom(record, T0 + 20_001)).toBe(false);
    // A declared 10 s interval gets 30 s (ADR 0007).
    liveness.saw('a', 's1', T0 + 30_000);
    expect(liveness.heardFrom({ ...record, heartbeat_interval_ms: 10_000 }, T0 + 59_000)).toBe(true);
  });
});

describe('sightings of instances the registry does not hold', () => {
  it('are forgotten once silent past the router timeout; known instances keep theirs', () => {
    const liveness = new Liveness({ heartbeatIntervalMs: 1_000, heartbeatTimeoutMs: 3_000 }, T0);
    liveness.saw('known', 's', T0);
    liveness.saw('stray', 's', T0);
    liveness.saw('fresh-stray', 's', T0 + 9_000);
    liveness.forgetUnknown((id) => id === 'known', T0 + 10_000);
    expect(liveness.last('known')).toBeDefined();
    expect(liveness.last('stray')).toBeUndefined();
    expect(liveness.last('fresh-stray')).toBeDefined(); // may be about to register again
    expect(liveness.size).toBe(2);
  });
});

describe('AEGIS_INSTANCE_RETENTION_MS', () => {
  const env = {};
  it('defaults to 10 minutes, capped at half a shorter registry TTL', () => {
    expect(resolveRouterSettings({}, env).instanceRetentionMs).toBe(600_000);
    expect(resolveRouterSettings({ registryTtlMs: 60_000 }, env).instanceRetentionMs).toBe(30_000);
  });

  it('accepts 1 s up to the registry TTL and refuses more as CONFIG_INVALID', () => {
    expect(resolveRouterSettings({ instanceRetentionMs: 1_000 }, env).instanceRetentionMs).toBe(1_000);
    expect(resolveRouterSettings({ registryTtlMs: 60_000, instanceRetentionMs: 60_000 }, env).instanceRetentionMs).toBe(60_000);
    expect(() => resolveRouterSettings({ registryTtlMs: 60_000, instanceRetentionMs: 60_001 }, env)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { env: 'AEGIS_INSTANCE_RETENTION_MS' } }),
    );
    expect(() => resolveRouterSettings({}, { AEGIS_REGISTRY_TTL_MS: '60000', AEGIS_INSTANCE_RETENTION_MS: '600000' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { env: 'AEGIS_INSTANCE_RETENTION_MS' } }),
    );
    expect(() => resolveRouterSettings({}, { AEGIS_INSTANCE_RETENTION_MS: '999' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
