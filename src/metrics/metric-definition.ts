/** The three Prometheus metric types the catalog uses. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** The subsystem a metric belongs to; drives dashboards, docs and which collector fills it. */
export type MetricGroup =
  'http' | 'jobs' | 'database' | 'integrations' | 'sync' | 'socketio' | 'errors' | 'self';

/**
 * One metric family: everything needed to create it, document it, alert on it
 * and draw it. `L` is the union of its label names, so recording calls are
 * type-checked against the catalog.
 */
export interface MetricDefinition<L extends string = string> {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly group: MetricGroup;
  readonly labelNames: readonly L[];
  /** Histogram upper bounds, ascending; `+Inf` is implicit. */
  readonly buckets?: readonly number[];
  /** Not in the specification: why it was added (it is then not one of the spec's families). */
  readonly beyondSpec?: string;
  /** The name the specification used, when Prometheus conventions forced another one. */
  readonly specName?: string;
  /**
   * Labels whose values our own code normalises to a small fixed set (HTTP
   * method, status class, ...). They skip the per-label value cap; every other
   * label is capped.
   */
  readonly boundedLabels?: readonly L[];
  /**
   * Gauges only: how the values of several processes of one service (Node
   * cluster, PM2) combine into the one series a scrape shows. `sum` (the
   * default) for what each process holds (active requests, its pool), `max`
   * for what every process reads from the same place (queue depth in Redis)
   * or the worst of them (breaker state), `min` for the best (sync lag: the
   * latest success any process saw; token expiry: the soonest).
   */
  readonly aggregate?: GaugeAggregation;
}

/** How a gauge's values from several processes combine (see `MetricDefinition.aggregate`). */
export type GaugeAggregation = 'sum' | 'max' | 'min';

export type CounterDefinition<L extends string = string> = MetricDefinition<L> & {
  readonly type: 'counter';
};
export type GaugeDefinition<L extends string = string> = MetricDefinition<L> & {
  readonly type: 'gauge';
};
export type HistogramDefinition<L extends string = string> = MetricDefinition<L> & {
  readonly type: 'histogram';
  readonly buckets: readonly number[];
};

/** Label values keyed by label name; a missing label is recorded as an empty value. */
export type Labels<L extends string> = [L] extends [never]
  ? Record<string, never>
  : Partial<Record<L, string | number>>;

/** Extracts the label-name union of a definition. */
export type LabelsOf<D> = D extends MetricDefinition<infer L> ? L : never;
