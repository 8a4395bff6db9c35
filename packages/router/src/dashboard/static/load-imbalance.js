// The load-imbalance figure of the Load distribution panel. One definition with the
// AegisLoadImbalance alert (ops/prometheus/aegis-alerts.rules.yml): the busiest and the least busy
// instance's difference as a share of the mean, (max − min) / mean. No DOM here, so it is
// unit-tested in node (packages/router/test/dashboard/load-imbalance.test.ts).

/** The rule's threshold: the alert fires, and the panel highlights, above 20 %. */
export const IMBALANCE_THRESHOLD = 0.2;

/**
 * (max − min) / mean of the selections per instance; 0 without calls.
 * @param {readonly number[]} counts
 * @returns {number}
 */
export function loadImbalance(counts) {
  if (counts.length === 0) return 0;
  let total = 0;
  let max = -Infinity;
  let min = Infinity;
  for (const c of counts) {
    total += c;
    if (c > max) max = c;
    if (c < min) min = c;
  }
  const mean = total / counts.length;
  return mean > 0 ? (max - min) / mean : 0;
}
