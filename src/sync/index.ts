export { SyncObservabilityModule } from './sync-observability.module.js';
export { SyncMetrics } from './sync-metrics.service.js';
export type { SyncObservabilityOptions, SyncQueueReader } from './sync.options.js';
