import { describe, expect, it } from 'vitest';
import { subjectFor } from '../../src/index.js';
import { aggregateLockHash } from '../../src/db/aggregate-lock-key.js';

describe('subjectFor', () => {
  it('uses safe aggregate ids as they are', () => {
    expect(subjectFor({ topic: 'domain-events', key: '6f1c1f4e-0a4b-4f7e-9a52-1c2d3e4f5a6b' })).toBe('domain-events.6f1c1f4e-0a4b-4f7e-9a52-1c2d3e4f5a6b');
  });
  it.each(['a.b', 'orders.*', '>', 'has space', 'x'.repeat(200), ''])('hashes unsafe id %j into one token', (key) => {
    const subject = subjectFor({ topic: 'domain-events', key });
    expect(subject).toMatch(/^domain-events\.x_[0-9a-f]{32}$/);
  });
});

describe('aggregateLockHash', () => {
  it('is a stable signed int4', () => {
    const h = aggregateLockHash('session-1');
    expect(h).toBe(aggregateLockHash('session-1'));
    expect(h).not.toBe(aggregateLockHash('session-2'));
    expect(h).toBeGreaterThanOrEqual(-(2 ** 31));
    expect(h).toBeLessThan(2 ** 31);
  });
});
