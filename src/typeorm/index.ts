export {
  TypeOrmInstrumentation,
  TypeOrmObservabilityModule,
} from './typeorm-observability.module.js';
export type { TypeOrmObservabilityOptions } from './typeorm-observability.module.js';
export { QueryMetricsSubscriber, UNKNOWN_DOCTYPE } from './query-metrics.subscriber.js';
export { classifySql } from './sql-classifier.js';
export type { ClassifiedSql, Operation } from './sql-classifier.js';
export { readPool } from './pool-gauges.collector.js';
