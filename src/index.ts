// The public API. Everything else under dist/ is internal and may change in
// any release; the subpath entry points (nestjs-observability/bullmq, ...)
// carry the integration modules.
export { ObservabilityModule } from './observability.module.js';
export type {
  ObservabilityModuleAsyncOptions,
  ObservabilityModuleSyncOptions,
} from './observability.module.js';
export { ObservabilityOptionsError } from './observability.options.js';
export type {
  HttpOptions,
  LabelOptions,
  LogLevel,
  LoggingOptions,
  MetricsAuth,
  MetricsOptions,
  ObservabilityModuleOptions,
  OrganizationOptions,
  TraceOptions,
} from './observability.options.js';
export type { ContextFields, ObservedRequest, RequestResolver } from './context/request-context.js';

export { CATALOG, CATALOG_DEFINITIONS } from './metrics/catalog.js';
export type { Catalog, CatalogKey } from './metrics/catalog.js';
export type {
  CounterDefinition,
  GaugeDefinition,
  HistogramDefinition,
  Labels,
  MetricDefinition,
  MetricGroup,
  MetricType,
} from './metrics/metric-definition.js';
export { MetricsService } from './metrics/metrics.service.js';
// What MetricsService hands out; created only through it.
export type {
  CounterFamily,
  GaugeFamily,
  HistogramFamily,
  HistogramSnapshot,
} from './metrics/families.js';
export type { ScrapeCollector } from './metrics/metrics-registry.js';
export type { ExpositionFormat } from './metrics/exposition.js';

export { TraceContext } from './context/trace-context.js';
export type { RunOptions } from './context/trace-context.js';
export { StructuredLogger } from './logging/structured-logger.js';
export type { LogFields } from './logging/structured-logger.js';
export { InstrumentJob } from './jobs/instrument-job.decorator.js';
