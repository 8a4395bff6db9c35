import { describe, expect, it } from 'vitest';
import { Histogram, Registry } from 'prom-client';
import { FoldedHistogram } from '../../src/metrics/folded-histogram.js';

const buckets = [0.001, 0.01, 0.1, 1];
/** Exposition lines, order-free (series appear in the order they were first recorded). */
const lines = async (registry: Registry) => (await registry.metrics()).split('\n').sort();

describe('FoldedHistogram', () => {
  it('scrapes exactly what plain observe() calls give, bound and unbound observations mixed', async () => {
    const plainRegistry = new Registry();
    const foldedRegistry = new Registry();
    const plain = new Histogram({ name: 'd_seconds', help: 'h', labelNames: ['service_name'] as const, buckets, registers: [plainRegistry] });
    const folded = new FoldedHistogram({ name: 'd_seconds', help: 'h', labelNames: ['service_name'] as const, buckets, registers: [foldedRegistry] });
    const bound = folded.bind({ service_name: 'svc' });
    expect(folded.bind({ service_name: 'svc' })).toBe(bound);
    // Values on, between and beyond the bounds (the last only in +Inf).
    const values = [0, 0.001, 0.0005, 0.005, 0.01, 0.5, 1, 3, 0.02];
    for (const v of values) {
      plain.observe({ service_name: 'svc' }, v);
      bound.observe(v);
    }
    plain.observe({ service_name: 'other' }, 0.2);
    folded.observe({ service_name: 'other' }, 0.2);
    expect(await lines(foldedRegistry)).toEqual(await lines(plainRegistry));
    // Folding is idempotent, and later observations add to the folded ones.
    expect(await lines(foldedRegistry)).toEqual(await lines(plainRegistry));
    plain.observe({ service_name: 'svc' }, 0.05);
    bound.observe(0.05);
    expect(await lines(foldedRegistry)).toEqual(await lines(plainRegistry));
  });

  it('keeps counting into a fresh series after a reset', async () => {
    const folded = new FoldedHistogram({ name: 'r_seconds', help: 'h', labelNames: ['a'] as const, buckets, registers: [] });
    const bound = folded.bind({ a: 'x' });
    bound.observe(0.5);
    folded.reset();
    bound.observe(0.002);
    const values = (await folded.get()).values;
    expect(values.find((v) => v.metricName === 'r_seconds_count')?.value).toBe(1);
    expect(values.find((v) => v.metricName === 'r_seconds_bucket' && (v.labels as Record<string, unknown>).le === 0.01)?.value).toBe(1);
  });

  it('refuses a value that is not a finite number, like prom-client', () => {
    const folded = new FoldedHistogram({ name: 'n_seconds', help: 'h', labelNames: ['a'] as const, buckets, registers: [] });
    expect(() => folded.bind({ a: 'x' }).observe(Number.NaN)).toThrow(TypeError);
  });
});
