export { ObservabilityModule } from './observability.module.js';
export type {
  ObservabilityModuleAsyncOptions,
  ObservabilityModuleSyncOptions,
} from './observability.module.js';
export {
  ObservabilityOptionsError,
  defaultUserResolver,
  organizationResolver,
} from './observability.options.js';
export type {
  HttpOptions,
  LabelOptions,
  LogLevel,
  LoggingOptions,
  MetricsAuth,
  MetricsOptions,
  ObservabilityModuleOptions,
  OrganizationOptions,
  ResolvedOptions,
  TraceOptions,
} from './observability.options.js';
export { JSON_LOGGER, OBSERVABILITY_OPTIONS } from './observability.constants.js';

export { CATALOG, CATALOG_DEFINITIONS, SPEC_DEFINITIONS } from './metrics/catalog.js';
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
export { CounterFamily, GaugeFamily, HistogramFamily } from './metrics/families.js';
export type { HistogramSnapshot } from './metrics/families.js';
export { MetricsRegistry } from './metrics/metrics-registry.js';
export type { ScrapeCollector } from './metrics/metrics-registry.js';
export { MetricsService } from './metrics/metrics.service.js';
export { CONTENT_TYPES, renderExpositionToString } from './metrics/exposition.js';
export type { ExpositionFormat } from './metrics/exposition.js';

export { TraceContext, NO_TRACE } from './context/trace-context.js';
export type { RunOptions } from './context/trace-context.js';
export { RequestContext } from './context/request-context.js';
export type { ContextFields, ObservedRequest, RequestResolver } from './context/request-context.js';
export { acceptTraceId, newTraceId, traceIdFromTraceparent } from './context/trace-id.js';

export { StructuredLogger } from './logging/structured-logger.js';
export type { LogFields } from './logging/structured-logger.js';
export { ObservabilityLogger } from './logging/observability-logger.js';
export { HttpInstrumentation, CLIENT_CLOSED_REQUEST } from './http/http-instrumentation.js';
export type { RawRouteHandler } from './http/http-instrumentation.js';

export { JobInstrumentation } from './jobs/job-instrumentation.js';
export type { JobAttempt, FailureKind } from './jobs/job-instrumentation.js';
export { InstrumentJob } from './jobs/instrument-job.decorator.js';
