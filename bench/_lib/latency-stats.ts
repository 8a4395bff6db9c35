/**
 * Latency samples of one load run and their summary. Samples are kept whole (a few hundred
 * thousand numbers at most per run) so percentiles are exact, not estimated from buckets.
 */

/** The figures one row of the benchmark table reports. */
export interface LoadStats {
  /** Calls completed successfully inside the measured window. */
  readonly ok: number;
  /** Calls that failed (error or wrong answer) inside the measured window. */
  readonly errors: number;
  /** Successful calls per second over the measured window. */
  readonly rps: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
  /** Error codes seen, with counts (empty when every call succeeded). */
  readonly error_codes: Readonly<Record<string, number>>;
  /** Every call completed in the run, warm-up included (for CPU per call). */
  readonly calls_total?: number;
}

/** Collects samples; `summarize()` turns them into {@link LoadStats}. */
export class LatencyRecorder {
  readonly #samples: number[] = [];
  readonly #errorCodes = new Map<string, number>();
  #errors = 0;

  /** Records a successful call that took `ms`. */
  ok(ms: number): void {
    this.#samples.push(ms);
  }

  /** Records a failed call; `code` is the AegisError code or a short reason. */
  error(code: string): void {
    this.#errors++;
    this.#errorCodes.set(code, (this.#errorCodes.get(code) ?? 0) + 1);
  }

  get count(): number {
    return this.#samples.length + this.#errors;
  }

  summarize(windowMs: number): LoadStats {
    const sorted = Float64Array.from(this.#samples).sort();
    return {
      ok: sorted.length,
      errors: this.#errors,
      rps: windowMs > 0 ? (sorted.length * 1000) / windowMs : 0,
      p50_ms: percentile(sorted, 0.5),
      p99_ms: percentile(sorted, 0.99),
      max_ms: sorted.length > 0 ? (sorted[sorted.length - 1] ?? 0) : 0,
      error_codes: Object.fromEntries(this.#errorCodes),
    };
  }
}

/** Nearest-rank percentile of an ascending array (0 for no samples). */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

/** Milliseconds from a monotonic clock (performance.now is monotonic and sub-millisecond). */
export function nowMs(): number {
  return performance.now();
}

/** Short error label for the table: the AegisError code when there is one, else the class name. */
export function errorLabel(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? err.name : 'UNKNOWN';
}
