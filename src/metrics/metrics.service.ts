import type { CounterFamily, GaugeFamily, HistogramFamily } from './families.js';
import type { ExpositionFormat } from './exposition.js';
import { renderExpositionToString } from './exposition.js';
import type { MetricsRegistry, ScrapeCollector } from './metrics-registry.js';
import type {
  CounterDefinition,
  GaugeDefinition,
  HistogramDefinition,
} from './metric-definition.js';

/**
 * Records and reads metrics from app code, without prom-client:
 *
 * ```ts
 * constructor(private readonly metrics: MetricsService) {}
 * this.metrics.counter(CATALOG.syncDeltasTotal).inc({ doctype: 'Invoice', org, operation: 'insert' });
 * ```
 *
 * Pass a catalog entry, or your own definition for an app-specific metric.
 * Recording never throws: bad values are ignored and counted in
 * `observability_instrumentation_errors_total`.
 */
export class MetricsService {
  constructor(readonly registry: MetricsRegistry) {}

  counter<L extends string>(def: CounterDefinition<L>): CounterFamily<L> {
    return this.registry.counter(def);
  }

  gauge<L extends string>(def: GaugeDefinition<L>): GaugeFamily<L> {
    return this.registry.gauge(def);
  }

  histogram<L extends string>(def: HistogramDefinition<L>): HistogramFamily<L> {
    return this.registry.histogram(def);
  }

  /** Registers a gauge-filling function run at scrape time (with a timeout). */
  addCollector(collector: ScrapeCollector): () => void {
    return this.registry.addCollector(collector);
  }

  /** The exposition as Prometheus would scrape it. */
  scrape(format: ExpositionFormat = 'text'): Promise<string> {
    return renderExpositionToString(this.registry, format);
  }
}
