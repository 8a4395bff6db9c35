/**
 * The dashboard's load-imbalance figure is the AegisLoadImbalance alert's measure,
 * (max − min) / mean, with the same 20 % threshold — checked against the rule file itself so the
 * two cannot drift apart again.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IMBALANCE_THRESHOLD, loadImbalance } from '../../src/dashboard/static/load-imbalance.js';

describe('load imbalance (dashboard = alert)', () => {
  it('is (max − min) / mean of the selections per instance', () => {
    expect(loadImbalance([100, 100, 100])).toBe(0);
    // mean 100: max − min = 60 → 60 %; the worst distance from the mean (40 %) is not the measure
    expect(loadImbalance([140, 80, 80])).toBeCloseTo(0.6);
    expect(loadImbalance([110, 90])).toBeCloseTo(0.2);
    expect(loadImbalance([42])).toBe(0);
  });

  it('is 0 without calls', () => {
    expect(loadImbalance([])).toBe(0);
    expect(loadImbalance([0, 0])).toBe(0);
  });

  it('uses the threshold and the expression of the alert rule', () => {
    const rules = readFileSync(new URL('../../../../ops/prometheus/aegis-alerts.rules.yml', import.meta.url), 'utf8');
    const rule = rules.slice(rules.indexOf('alert: AegisLoadImbalance'), rules.indexOf('for:', rules.indexOf('alert: AegisLoadImbalance')));
    expect(rule).toMatch(/max by \(service_name\)[\s\S]*- min by \(service_name\)[\s\S]*\/ \(avg by \(service_name\)/);
    expect(rule).toMatch(new RegExp(`> ${IMBALANCE_THRESHOLD}\\s*$`));
  });
});
