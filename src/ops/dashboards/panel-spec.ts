/** The visual types the specification names. */
export type PanelKind =
  'timeseries' | 'gauge' | 'barchart' | 'table' | 'piechart' | 'statushistory' | 'heatmap';

export interface QuerySpec {
  expr: string;
  legend?: string;
  /** One value per series (tables, bar charts, pie charts, gauges). */
  instant?: boolean;
  /** Show the trace-ID exemplars the app exposes. */
  exemplar?: boolean;
}

/** One panel, independent of the SDK: what the dashboard tests read too. */
export interface PanelSpec {
  title: string;
  kind: PanelKind;
  unit: string;
  description: string;
  queries: QuerySpec[];
  /** Grid width (of 24) and height. */
  w: number;
  h: number;
  /** Red from this value on (gauges, thresholds lines). */
  redFrom?: number;
  /** Value → text and color (circuit breaker states). */
  valueText?: Record<string, { text: string; color: string }>;
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  panels: PanelSpec[];
}
