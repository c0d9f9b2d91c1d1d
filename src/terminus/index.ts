export { HealthObservabilityModule } from './health-observability.module.js';
export { ObservabilityHealth } from './health.service.js';
export type { HealthResponse } from './health.service.js';
export type { CustomHealthCheck, HealthOptions, RedisPinger } from './health.options.js';
