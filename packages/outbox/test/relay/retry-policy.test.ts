import { describe, expect, it } from 'vitest';
import { nextRetryDelay, DEFAULT_RETRY_DELAYS_MS } from '../../src/index.js';

describe('retry policy (OB-5)', () => {
  it('retries after 1 s, 2 s, 4 s, then gives up', () => {
    expect(DEFAULT_RETRY_DELAYS_MS).toEqual([1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((n) => nextRetryDelay(n))).toEqual([1000, 2000, 4000, undefined]);
  });
});
