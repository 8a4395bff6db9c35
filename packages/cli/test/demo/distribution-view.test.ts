import { describe, expect, it } from 'vitest';
import { renderTick, spread } from '../../src/demo/distribution-view.js';
import type { CallCounts } from '../../src/demo/caller-loop.js';

const counts = (byInstance: Record<string, number>, byError: Record<string, number> = {}): CallCounts => ({
  ok: Object.values(byInstance).reduce((a, b) => a + b, 0),
  errors: Object.values(byError).reduce((a, b) => a + b, 0),
  byInstance: new Map(Object.entries(byInstance)),
  byError: new Map(Object.entries(byError)),
});

describe('demo distribution view', () => {
  it('draws bars relative to the busiest instance and marks instances that are not ONLINE', () => {
    const line = renderTick(12.04, counts({ a: 20, b: 10 }), [
      { instanceId: 'a', status: 'ONLINE' },
      { instanceId: 'b', status: 'ONLINE' },
      { instanceId: 'c', status: 'UNHEALTHY' },
    ]);
    expect(line).toContain('12.0s');
    expect(line).toContain(`a ${'█'.repeat(20)}  20`);
    expect(line).toContain(`b ${'█'.repeat(10).padEnd(20)}  10`);
    expect(line).toContain('c ');
    expect(line).toContain('0 ✗ UNHEALTHY');
    expect(line).toContain('ok   30  err 0  │');
  });

  it('lists the error codes of the second', () => {
    expect(renderTick(1, counts({ a: 1 }, { ROUTE_INSTANCE_TIMEOUT: 2 }), [{ instanceId: 'a', status: 'ONLINE' }])).toContain('err 2 (ROUTE_INSTANCE_TIMEOUT×2)');
  });

  it('renders an empty second without dividing by zero', () => {
    expect(renderTick(1, counts({}), [{ instanceId: 'a', status: 'ONLINE' }])).toContain(`a ${' '.repeat(20)}   0`);
  });

  it('spread is max/min over the given instances, Infinity when one got nothing', () => {
    expect(spread(counts({ a: 10, b: 12, c: 11 }), ['a', 'b', 'c'])).toBeCloseTo(1.2);
    expect(spread(counts({ a: 10 }), ['a', 'b'])).toBe(Number.POSITIVE_INFINITY);
  });
});
