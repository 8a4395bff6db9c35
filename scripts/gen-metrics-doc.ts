/** Writes docs/metrics.md from the metric definitions (`npm run docs:metrics`). */
import { writeFileSync } from 'node:fs';
import { renderMetricsDoc } from './render-metrics-doc.js';

writeFileSync(new URL('../docs/metrics.md', import.meta.url), renderMetricsDoc());
console.log('wrote docs/metrics.md');
