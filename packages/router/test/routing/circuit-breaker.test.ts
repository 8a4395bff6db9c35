import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type BreakerState } from '../../src/routing/circuit-breaker.js';

const healthy = (...ids: string[]) => ids.map((instance_id) => ({ instance_id }));

function breaker(openMs = 1_000) {
  const changes: BreakerState[] = [];
  return { b: new CircuitBreaker('svc', openMs, (s) => changes.push(s)), changes };
}

describe('circuit breaker', () => {
  it('stays closed while some instance has not failed', () => {
    const { b } = breaker();
    b.instanceFailed('a', healthy('a', 'b'), 0);
    expect(b.state(0)).toBe('closed');
    expect(b.acquire(0)).toBe('pass');
  });

  it('opens when every healthy instance failed, and refuses calls for openMs', () => {
    const { b, changes } = breaker(1_000);
    b.instanceFailed('a', healthy('a', 'b'), 0);
    b.instanceFailed('b', healthy('a', 'b'), 10);
    expect(b.state(10)).toBe('open');
    expect(b.acquire(500)).toBe('reject');
    expect(b.retryAfterMs(500)).toBe(510);
    expect(changes).toEqual(['open']);
  });

  it('forgets failures on a success', () => {
    const { b } = breaker();
    b.instanceFailed('a', healthy('a', 'b'), 0);
    b.succeeded();
    b.instanceFailed('b', healthy('a', 'b'), 0);
    expect(b.state(0)).toBe('closed');
  });

  it('lets exactly one probe through when half-open; its success closes the breaker', () => {
    const { b, changes } = breaker(1_000);
    b.instanceFailed('a', healthy('a'), 0);
    expect(b.state(1_000)).toBe('half_open');
    expect(b.acquire(1_000)).toBe('probe');
    expect(b.acquire(1_001)).toBe('reject');
    b.succeeded();
    expect(b.state(1_002)).toBe('closed');
    expect(b.acquire(1_002)).toBe('pass');
    expect(changes).toEqual(['open', 'half_open', 'closed']);
  });

  it('opens again for another openMs when the probe fails', () => {
    const { b } = breaker(1_000);
    b.instanceFailed('a', healthy('a'), 0);
    const permit = b.acquire(1_500);
    expect(permit).toBe('probe');
    b.instanceFailed('a', healthy('a'), 1_600);
    b.callFailed(permit, 1_600);
    expect(b.state(2_000)).toBe('open');
    expect(b.state(2_600)).toBe('half_open');
    expect(b.snapshot(2_600).times_opened).toBe(2);
  });

  it('allows a new probe when the previous one ended without telling anything', () => {
    const { b } = breaker(1_000);
    b.instanceFailed('a', healthy('a'), 0);
    const permit = b.acquire(1_000);
    b.released(permit);
    expect(b.acquire(1_001)).toBe('probe');
  });

  it('does not open with no healthy instances (that is ROUTE_NO_INSTANCE, not a breaker)', () => {
    const { b } = breaker();
    b.instanceFailed('a', [], 0);
    expect(b.state(0)).toBe('closed');
  });
});
