/**
 * A prom-client histogram whose hot-path observations are a bucket search and three additions.
 *
 * prom-client validates and hashes the label object on every `observe()` — also through a
 * `labels(...)` child — which costs about as much as the rest of recording a routed call.
 * `bind(labels)` returns an observer that counts into local buckets; the counts are folded into
 * the histogram whenever it is collected (a scrape, `get()`, `registry.metrics()`), so what
 * Prometheus reads — buckets, sum, count, labels — is what plain `observe()` calls would give
 * (a unit test compares the two).
 *
 * Folding writes the per-series record prom-client 15 keeps (`hashMap` entries of
 * `{ labels, bucketValues, sum, count }`), which has no public "add n to a bucket" API; the
 * record is created through the public `zero(labels)`. The unit test fails on a prom-client
 * that stores series differently.
 */
import { Histogram, type HistogramConfiguration, type LabelValues } from 'prom-client';

/** A cheap observer for one label set of a {@link FoldedHistogram}. */
export interface BoundObserver {
  observe(value: number): void;
}

/** prom-client 15's record of one series (see the module comment). */
interface SeriesRecord {
  readonly labels: LabelValues<string>;
  readonly bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

class LocalSeries implements BoundObserver {
  readonly labels: LabelValues<string>;
  readonly #bounds: readonly number[];
  /** Observations per bucket since the last fold; the last slot is above every bound (+Inf only). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(labels: LabelValues<string>, bounds: readonly number[]) {
    this.labels = labels;
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    (this.counts[i] as number)++;
    this.sum += value;
    this.count++;
  }

  clear(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

export class FoldedHistogram<L extends string = string> extends Histogram<L> {
  readonly #local = new Map<string, LocalSeries>();

  constructor(config: HistogramConfiguration<L>) {
    const ownCollect = config.collect;
    // `collect` runs with the histogram as `this`; fold first so a custom collect sees the sums.
    super({
      ...config,
      collect(this: Histogram<L>) {
        (this as FoldedHistogram<L>).#fold();
        return ownCollect?.call(this);
      },
    });
  }

  /**
   * The observer for `labels` (the same object for the same label values). Bind once per label
   * set where possible: binding serialises the labels to find the local series.
   */
  bind(labels: LabelValues<L>): BoundObserver {
    const key = JSON.stringify(labels);
    let local = this.#local.get(key);
    if (local === undefined) this.#local.set(key, (local = new LocalSeries(labels, (this as unknown as { upperBounds: readonly number[] }).upperBounds)));
    return local;
  }

  /** Clears every series, including observations not folded in yet. */
  override reset(): void {
    super.reset();
    // prom-client's constructor calls reset() before this class's fields exist.
    if (#local in this) for (const local of this.#local.values()) local.clear();
  }

  #fold(): void {
    const bounds = (this as unknown as { upperBounds: readonly number[] }).upperBounds;
    for (const local of this.#local.values()) {
      if (local.count === 0) continue;
      const record = this.#record(local.labels);
      for (let i = 0; i < bounds.length; i++) {
        const n = local.counts[i] as number;
        if (n !== 0) record.bucketValues[bounds[i] as number] = (record.bucketValues[bounds[i] as number] ?? 0) + n;
      }
      record.sum += local.sum;
      record.count += local.count;
      local.clear();
    }
  }

  /** prom-client's record of the series `labels`, created (zeroed) when it has none. */
  #record(labels: LabelValues<string>): SeriesRecord {
    const find = () => Object.values((this as unknown as { hashMap: Record<string, SeriesRecord> }).hashMap).find((r) => sameLabels(r.labels, labels));
    let record = find();
    if (record === undefined) {
      this.zero(labels);
      record = find();
      if (record === undefined) throw new Error('FoldedHistogram: prom-client no longer keeps series records as expected');
    }
    return record;
  }
}

function sameLabels(a: LabelValues<string>, b: LabelValues<string>): boolean {
  const keys = Object.keys(b);
  if (Object.keys(a).length !== keys.length) return false;
  for (const k of keys) if (String(a[k]) !== String(b[k])) return false;
  return true;
}
