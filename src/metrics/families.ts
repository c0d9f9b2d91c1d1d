import { performance } from 'node:perf_hooks';
import type { LabelGuard } from './label-guard.js';
import { cutLabelValue, normalizeLabelValue } from './label-guard.js';
import type { Labels, MetricDefinition } from './metric-definition.js';
import { renderLabelPairs } from './text-format.js';

/*
 * Metric storage. prom-client hashes the label object on every observation;
 * on the HTTP hot path we instead resolve a series once and keep a direct
 * reference to it, so recording is a few field writes. Each series renders its
 * label text once, at creation, which also makes large scrapes cheap.
 */

/** Reports a value the caller should not have passed (the call is ignored). */
export type BadInputReporter = (metric: string, reason: string) => void;

abstract class Series {
  constructor(
    readonly labelValues: readonly string[],
    /** `a="x",b="y"`, rendered once. */
    readonly labelText: string,
  ) {}
}

export class CounterSeries extends Series {
  value = 0;
}

export class GaugeSeries extends Series {
  value = 0;
}

export class HistogramSeries extends Series {
  /** Per-bucket counts, not cumulative; the last slot is `+Inf`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  /** Latest exemplar per bucket, kept in parallel arrays so observing allocates nothing. */
  readonly exemplarTrace: (string | undefined)[];
  readonly exemplarValue: Float64Array;
  readonly exemplarTime: Float64Array;

  constructor(
    labelValues: readonly string[],
    labelText: string,
    readonly bounds: readonly number[],
  ) {
    super(labelValues, labelText);
    this.counts = new Float64Array(bounds.length + 1);
    this.exemplarTrace = new Array<string | undefined>(bounds.length + 1);
    this.exemplarValue = new Float64Array(bounds.length + 1);
    this.exemplarTime = new Float64Array(bounds.length + 1);
  }

  /**
   * Records one observation; `value` must be a finite number (callers check).
   * `time` (milliseconds since the epoch) dates the exemplar, now by default.
   */
  observe(value: number, traceId?: string, time?: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
    if (traceId !== undefined) {
      this.exemplarTrace[i] = traceId;
      this.exemplarValue[i] = value;
      this.exemplarTime[i] = (time ?? Date.now()) / 1000;
    }
  }
}

/** What a histogram series holds, with cumulative bucket counts keyed by upper bound. */
export interface HistogramSnapshot {
  count: number;
  sum: number;
  buckets: Record<string, number>;
}

/** The map key of a series: its label values in label-name order. */
function keyOf(values: readonly string[]): string {
  return values.length === 1 ? values[0]! : values.join('\u0001');
}

export abstract class MetricFamily<L extends string, S extends Series> {
  readonly series = new Map<string, S>();

  constructor(
    readonly def: MetricDefinition<L>,
    protected readonly guard: LabelGuard,
    private readonly maxLength: number,
    protected readonly reportBadInput: BadInputReporter,
  ) {}

  protected abstract createSeries(values: readonly string[], labelText: string): S;

  /**
   * The series for label values given in label-name order, after the value
   * caps. `values` may be rewritten in place (cut to the length limit, overflow).
   */
  seriesOf(values: string[]): S {
    const key = keyOf(values);
    let s = this.series.get(key);
    if (s !== undefined) return s;
    // Callers on the hot path pass raw values: cut them here, on a miss only.
    let cut = false;
    for (let i = 0; i < values.length; i++) {
      if (values[i]!.length > this.maxLength) {
        values[i] = cutLabelValue(values[i]!, this.maxLength);
        cut = true;
      }
    }
    if (cut) return this.seriesOf(values);
    if (!this.guard.admit(values)) return this.seriesOf(values);
    s = this.createSeries(values, renderLabelPairs(this.def.labelNames, values));
    this.series.set(key, s);
    this.guard.retain(values);
    return s;
  }

  /** The series for a label object. */
  with(labels?: Labels<L>): S {
    return this.seriesOf(this.valuesOf(labels));
  }

  /** Label values in label-name order, normalised. */
  valuesOf(labels?: Labels<L>): string[] {
    const names = this.def.labelNames;
    const out = new Array<string>(names.length);
    const rec = (labels ?? {}) as Record<string, unknown>;
    for (let i = 0; i < names.length; i++)
      out[i] = normalizeLabelValue(rec[names[i]!], this.maxLength);
    return out;
  }

  /** Looks a series up without creating it. */
  find(labels?: Labels<L>): S | undefined {
    return this.series.get(keyOf(this.valuesOf(labels)));
  }

  /** Removes one series (e.g. a queue that no longer exists), freeing its label slots. */
  remove(labels?: Labels<L>): void {
    this.removeKey(keyOf(this.valuesOf(labels)));
  }

  protected removeKey(key: string): void {
    const s = this.series.get(key);
    if (s === undefined) return;
    this.series.delete(key);
    this.guard.release(s.labelValues);
  }

  /** Drops every series and forgets admitted label values. */
  reset(): void {
    this.series.clear();
    this.guard.clear();
  }

  protected checkNumber(value: number): boolean {
    if (typeof value === 'number' && Number.isFinite(value)) return true;
    this.reportBadInput(this.def.name, 'not a finite number');
    return false;
  }
}

export class CounterFamily<L extends string = string> extends MetricFamily<L, CounterSeries> {
  protected createSeries(values: readonly string[], labelText: string): CounterSeries {
    return new CounterSeries(values, labelText);
  }

  /** Adds `value` (default 1, never negative) to the series of `labels`. */
  inc(labels?: Labels<L>, value = 1): void {
    if (!this.checkNumber(value)) return;
    if (value < 0) {
      this.reportBadInput(this.def.name, 'negative counter increment');
      return;
    }
    this.with(labels).value += value;
  }

  /** The current value, 0 for a series never incremented. */
  get(labels?: Labels<L>): number {
    return this.find(labels)?.value ?? 0;
  }
}

export class GaugeFamily<L extends string = string> extends MetricFamily<L, GaugeSeries> {
  protected createSeries(values: readonly string[], labelText: string): GaugeSeries {
    return new GaugeSeries(values, labelText);
  }

  set(labels: Labels<L> | undefined, value: number): void {
    if (this.checkNumber(value)) this.with(labels).value = value;
  }

  inc(labels?: Labels<L>, value = 1): void {
    if (this.checkNumber(value)) this.with(labels).value += value;
  }

  dec(labels?: Labels<L>, value = 1): void {
    if (this.checkNumber(value)) this.with(labels).value -= value;
  }

  /** The current value, or undefined when the series was never set. */
  get(labels?: Labels<L>): number | undefined {
    return this.find(labels)?.value;
  }

  /**
   * Makes the gauge hold exactly these series, as a scrape-time collector
   * reads them: series not listed are removed (their label slots freed), and
   * values past a label cap are summed into the overflow series rather than
   * overwriting one another.
   */
  replaceAll(entries: Iterable<readonly [Labels<L>, number]>): void {
    const fresh = new Map<string, { values: string[]; value: number }>();
    for (const [labels, value] of entries) {
      if (!this.checkNumber(value)) continue;
      const values = this.valuesOf(labels);
      const key = keyOf(values);
      const prev = fresh.get(key);
      if (prev) prev.value += value;
      else fresh.set(key, { values, value });
    }
    for (const key of [...this.series.keys()]) if (!fresh.has(key)) this.removeKey(key);
    const totals = new Map<GaugeSeries, number>();
    for (const { values, value } of fresh.values()) {
      const s = this.seriesOf(values); // may be the overflow series
      totals.set(s, (totals.get(s) ?? 0) + value);
    }
    for (const [s, total] of totals) s.value = total;
    // An overflow series nothing collapsed into this time is stale.
    for (const [key, s] of this.series) if (!totals.has(s)) this.removeKey(key);
  }
}

export class HistogramFamily<L extends string = string> extends MetricFamily<L, HistogramSeries> {
  protected createSeries(values: readonly string[], labelText: string): HistogramSeries {
    return new HistogramSeries(values, labelText, this.def.buckets ?? []);
  }

  /** Records one observation; `traceId` becomes the bucket's exemplar. */
  observe(labels: Labels<L> | undefined, value: number, traceId?: string): void {
    if (this.checkNumber(value)) this.with(labels).observe(value, traceId);
  }

  /** Times `fn` (sync or async) and observes its duration in seconds, even when it throws. */
  async time<T>(labels: Labels<L> | undefined, fn: () => T | Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.observe(labels, (performance.now() - start) / 1000);
    }
  }

  /** Count, sum and cumulative bucket counts of a series (zeros when never observed). */
  get(labels?: Labels<L>): HistogramSnapshot {
    const s = this.find(labels);
    const bounds = this.def.buckets ?? [];
    const buckets: Record<string, number> = {};
    let acc = 0;
    for (let i = 0; i <= bounds.length; i++) {
      acc += s?.counts[i] ?? 0;
      buckets[i < bounds.length ? String(bounds[i]) : '+Inf'] = acc;
    }
    return { count: s?.count ?? 0, sum: s?.sum ?? 0, buckets };
  }
}

export type AnyFamily = CounterFamily<string> | GaugeFamily<string> | HistogramFamily<string>;
