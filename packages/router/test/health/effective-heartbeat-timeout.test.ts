import { describe, expect, it } from 'vitest';
import { effectiveHeartbeatTimeout } from '../../src/health/effective-heartbeat-timeout.js';
import { Liveness } from '../../src/health/liveness.js';

const defaults = { heartbeatIntervalMs: 1_000, heartbeatTimeoutMs: 3_000 };
const short = { heartbeatIntervalMs: 300, heartbeatTimeoutMs: 900 };

describe('effective heartbeat timeout (ADR 0007)', () => {
  it("is exactly the router's timeout for an instance that declares nothing or the router's interval", () => {
    expect(effectiveHeartbeatTimeout(undefined, defaults)).toBe(3_000);
    expect(effectiveHeartbeatTimeout(1_000, defaults)).toBe(3_000);
    expect(effectiveHeartbeatTimeout(300, short)).toBe(900);
  });

  it("never drops below the router's timeout for a shorter declared interval", () => {
    expect(effectiveHeartbeatTimeout(100, defaults)).toBe(3_000);
    expect(effectiveHeartbeatTimeout(999, defaults)).toBe(3_000);
  });

  it('allows a longer declared interval as many missed beats as the router allows its own', () => {
    expect(effectiveHeartbeatTimeout(10_000, defaults)).toBe(30_000);
    expect(effectiveHeartbeatTimeout(60_000, defaults)).toBe(180_000);
    expect(effectiveHeartbeatTimeout(1_000, short)).toBe(3_000);
    // 2.5 beats allowed: 1 001 ms × 2.5 = 2 502.5, rounded up to a whole millisecond.
    expect(effectiveHeartbeatTimeout(1_001, { heartbeatIntervalMs: 1_000, heartbeatTimeoutMs: 2_500 })).toBe(2_503);
  });

  it('is exact for integer inputs (no floating-point ceiling drift)', () => {
    for (let interval = 100; interval <= 60_000; interval += 7) {
      expect(effectiveHeartbeatTimeout(interval, short)).toBe(Math.max(900, interval * 3));
    }
  });
});

describe('liveness with declared intervals', () => {
  const startedAt = 1_000_000;
  const record = (interval: number, updatedAt: number) => ({
    instance_id: 'i', session_id: 's', heartbeat_interval_ms: interval, updated_at: new Date(updatedAt).toISOString(),
  });

  it("judges a heartbeat by the instance's effective timeout", () => {
    const liveness = new Liveness(short, startedAt);
    const registeredAt = startedAt + 10_000;
    liveness.saw('i', 's', registeredAt + 5_000);
    // Declared 1 000 ms → 3 000 ms; the router's own 300 ms → 900 ms.
    expect(liveness.isAlive(record(1_000, registeredAt), registeredAt + 8_000)).toBe(true);
    expect(liveness.isAlive(record(1_000, registeredAt), registeredAt + 8_001)).toBe(false);
    expect(liveness.isAlive(record(300, registeredAt), registeredAt + 5_900)).toBe(true);
    expect(liveness.isAlive(record(300, registeredAt), registeredAt + 5_901)).toBe(false);
  });

  it('grants the (re)registration grace for the effective timeout', () => {
    const liveness = new Liveness(short, startedAt);
    liveness.saw('i', 'other-session', startedAt);
    const registeredAt = startedAt + 10_000;
    expect(liveness.isAlive(record(1_000, registeredAt), registeredAt + 3_000)).toBe(true);
    expect(liveness.isAlive(record(1_000, registeredAt), registeredAt + 3_001)).toBe(false);
  });

  it('keeps an unseen long-interval instance alive for its effective timeout after this replica starts', () => {
    const liveness = new Liveness(short, startedAt);
    const longAgo = startedAt - 60_000;
    expect(liveness.isAlive(record(1_000, longAgo), startedAt + 2_500)).toBe(true);
    expect(liveness.isAlive(record(1_000, longAgo), startedAt + 3_001)).toBe(false);
    expect(liveness.isAlive(record(300, longAgo), startedAt + 901)).toBe(false);
  });

  it('exposes the timeout it judges by', () => {
    const liveness = new Liveness(defaults);
    expect(liveness.timeoutFor(undefined)).toBe(3_000);
    expect(liveness.timeoutFor(10_000)).toBe(30_000);
  });
});
